"""The signature header: one v1 per secret over `<t>.<body>`; `verify` takes any matching v1
made within the tolerance."""

from __future__ import annotations

import hashlib
import hmac

from voltgate.webhooks.signing import signature, verify

BODY = b'{"id":"whd_1","type":"alert.fired"}'


def test_each_secret_signs_the_timestamp_and_the_body() -> None:
    header = signature(["vgwhs_test_new", "vgwhs_test_old"], 1_800_000_000, BODY)
    stamp, first, second = header.split(",")
    assert stamp == "t=1800000000"
    for part, secret in ((first, "vgwhs_test_new"), (second, "vgwhs_test_old")):
        expected = hmac.new(secret.encode(), b"1800000000." + BODY, hashlib.sha256).hexdigest()
        assert part == f"v1={expected}"


def test_verify_takes_either_secret_within_the_tolerance_only() -> None:
    header = signature(["vgwhs_test_new", "vgwhs_test_old"], 1_800_000_000, BODY)
    assert verify(header, "vgwhs_test_new", BODY, 1_800_000_100)
    assert verify(header, "vgwhs_test_old", BODY, 1_800_000_100)
    assert not verify(header, "vgwhs_test_other", BODY, 1_800_000_100)
    assert not verify(header, "vgwhs_test_new", BODY + b" ", 1_800_000_100)
    assert not verify(header, "vgwhs_test_new", BODY, 1_800_000_301)  # too old: a replay
    assert not verify("v1=00", "vgwhs_test_new", BODY, 1_800_000_000)
    assert not verify("t=x,v1=00", "vgwhs_test_new", BODY, 1_800_000_000)
