"""Identifiers stay unique across forked worker processes."""

from __future__ import annotations

import multiprocessing

from voltgate.ids import ulid, unique_hex


def _draw(queue: multiprocessing.Queue[tuple[str, str]]) -> None:
    queue.put((unique_hex(), ulid()[10:]))


def test_a_forked_worker_draws_other_ids_than_its_parent() -> None:
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[tuple[str, str]] = context.Queue()
    children = [context.Process(target=_draw, args=(queue,)) for _ in range(2)]
    for child in children:
        child.start()
    drawn = [queue.get(timeout=30) for _ in children]
    for child in children:
        child.join(timeout=30)
    mine = (unique_hex(), ulid()[10:])
    hexes = {d[0] for d in drawn} | {mine[0]}
    randoms = {d[1] for d in drawn} | {mine[1]}
    assert len(hexes) == 3 and len(randoms) == 3
