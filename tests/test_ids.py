"""Identifiers stay unique across forked worker processes, and sort in the order made."""

from __future__ import annotations

import multiprocessing
import time

from voltgate.ids import ulid, ulid_at, unique_hex


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


def test_a_ulid_is_its_millisecond_then_80_random_bits_in_crockford_base32() -> None:
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    before = int(time.time() * 1000)
    drawn = [ulid() for _ in range(2000)]
    after = int(time.time() * 1000)
    for value in drawn:
        assert len(value) == 26 and set(value) <= set(alphabet)
        number = _decode(value)
        assert number < 1 << 128
        assert before <= number >> 80 <= after
    assert len(set(drawn)) == len(drawn)
    # Time first: ids drawn in a later millisecond sort after.
    later = [v for v in drawn if int(_decode(v) >> 80) > before]
    assert all(v > drawn[0] for v in later)


def _decode(value: str) -> int:
    number = 0
    for char in value:
        number = number * 32 + "0123456789abcdefghjkmnpqrstvwxyz".index(char)
    return number


def test_ulids_made_in_one_millisecond_sort_in_the_order_made() -> None:
    drawn = [ulid() for _ in range(5000)]  # hundreds in each millisecond
    assert drawn == sorted(drawn) and len(set(drawn)) == len(drawn)


def test_a_ulid_for_a_past_moment_is_its_millisecond_then_the_given_bits() -> None:
    at = 1_767_225_600.1234  # 2026-01-01T00:00:00.123Z
    value = ulid_at(at, (1 << 90) | 12345)  # only the low 80 bits are used

    assert _decode(value) == (1_767_225_600_123 << 80) | 12345
    assert ulid_at(at, 12345) == value  # the same moment and bits: the same id
    assert ulid_at(at - 0.001, (1 << 80) - 1) < value < ulid_at(at + 0.001, 0) < ulid()
