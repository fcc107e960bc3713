"""The anti-replay counter rules: infotainment's window of 32, VCSEC's strict order."""

from __future__ import annotations

from voltgate.vehiclecmd.counters import WINDOW, Counter, in_order, sliding


def _accept_all(rule: object, counters: list[int]) -> list[bool]:
    state = Counter()
    taken = []
    for value in counters:
        updated = rule(state, value)  # type: ignore[operator]
        taken.append(updated is not None)
        state = updated or state
    return taken


def test_the_window_takes_each_counter_once_in_any_order() -> None:
    assert _accept_all(sliding, [1, 3, 2, 3, 2, 1, 4]) == [
        True,
        True,
        True,
        False,
        False,
        False,
        True,
    ]


def test_the_window_is_32_wide() -> None:
    assert WINDOW == 32
    assert _accept_all(sliding, [40, 8]) == [True, True]  # 32 below the highest
    assert _accept_all(sliding, [40, 7]) == [True, False]  # 33 below
    assert _accept_all(sliding, [1, 100, 68, 68]) == [True, True, True, False]


def test_a_jump_far_ahead_forgets_the_window() -> None:
    state = sliding(Counter(), 5)
    assert state is not None
    far = sliding(state, 2**32 - 1)
    assert far == Counter(2**32 - 1, 0)


def test_vcsec_takes_only_increasing_counters() -> None:
    assert _accept_all(in_order, [1, 3, 2, 3, 4, 10]) == [True, True, False, False, True, True]
