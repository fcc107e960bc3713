"""Server-side verification of signed requests: every way a signature can be wrong is refused
with its own clear message; a valid one passes once."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from voltgate.cache.memory import InProcessCoordinator
from voltgate.clock import FrozenClock
from voltgate.config import Environment
from voltgate.identity.secrets import Crypto
from voltgate.identity.signing import InvalidSignature, RequestVerifier
from voltgate.sdk.signer import Signer

SECRET = "vgcs_test_device-or-client-secret"
PATH = "/v1/operator/devices/dev_1/connectors/1/discharge"
BODY = b'{"discharge_power":7.4,"duration":3600,"min_soc":30}'


Setup = tuple[RequestVerifier, FrozenClock, list[tuple[str, str]]]


@pytest.fixture
def setup() -> Setup:
    clock = FrozenClock(1_763_719_200)
    crypto = Crypto(b"k" * 32, Environment.SANDBOX)
    verifier = RequestVerifier(crypto.envelope, InProcessCoordinator(clock=clock), clock)
    sealed = [(crypto.envelope.seal(SECRET.encode(), "client-secret:c1"), "client-secret:c1")]
    return verifier, clock, sealed


async def _verify(
    verifier: RequestVerifier,
    sealed: list[tuple[str, str]],
    headers: dict[str, str],
    *,
    mode: str = "optional",
    sensitive: bool = True,
    method: str = "POST",
    path: str = PATH,
    body: bytes = BODY,
) -> bool:
    return await verifier.verify(
        mode=mode,
        sensitive=sensitive,
        method=method,
        path=path,
        body=body,
        timestamp=headers.get("X-Timestamp"),
        signature=headers.get("X-Signature"),
        sealed_secrets=sealed,
    )


def _signed(clock: FrozenClock, secret: str = SECRET, offset: int = 0) -> dict[str, str]:
    return Signer(secret).headers("POST", PATH, BODY, timestamp=int(clock.now()) + offset)


async def test_a_valid_signature_passes_once(setup: Setup) -> None:
    verifier, clock, sealed = setup
    headers = _signed(clock)
    assert await _verify(verifier, sealed, headers) is True
    with pytest.raises(InvalidSignature, match="already used"):
        await _verify(verifier, sealed, headers)


async def test_the_literal_concatenation_passes_too(setup: Setup) -> None:
    verifier, clock, sealed = setup
    stamp = str(int(clock.now()))
    message = b"POST" + PATH.encode() + stamp.encode() + BODY
    signed = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    headers = {"X-Timestamp": stamp, "X-Signature": signed}
    assert await _verify(verifier, sealed, headers) is True
    with pytest.raises(InvalidSignature, match="already used"):
        await _verify(verifier, sealed, headers)


async def test_a_timestamp_with_a_leading_zero_cannot_move_digits_from_the_path(
    setup: Setup,
) -> None:
    """Concatenated, "/dev_1/connectors/10" + "1763719200" reads the same as
    "/dev_1/connectors/1" + "01763719200": only the first way of writing the time counts."""
    verifier, clock, sealed = setup
    stamp = str(int(clock.now()))
    signed = hmac.new(SECRET.encode(), f"GET/v1/x/10{stamp}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Timestamp": f"0{stamp}", "X-Signature": signed}
    with pytest.raises(InvalidSignature, match="no leading 0"):
        await _verify(verifier, sealed, headers, method="GET", path="/v1/x/1", body=b"")
    # Digits int() takes but the rule does not: a superscript two, fullwidth digits.
    for odd in ("\u00b2", "\uff11" * 10, "17637192 0"):
        with pytest.raises(InvalidSignature, match="Unix seconds"):
            await _verify(verifier, sealed, {**headers, "X-Timestamp": odd})


async def test_wrong_secret(setup: Setup) -> None:
    verifier, clock, sealed = setup
    with pytest.raises(InvalidSignature, match="does not match"):
        await _verify(verifier, sealed, _signed(clock, secret="vgcs_test_someone-else"))


@pytest.mark.parametrize(("offset", "message"), [(-301, "stale"), (301, "in the future")])
async def test_timestamp_outside_the_window(setup: Setup, offset: int, message: str) -> None:
    verifier, clock, sealed = setup
    with pytest.raises(InvalidSignature, match=message):
        await _verify(verifier, sealed, _signed(clock, offset=offset))


async def test_tampered_body_path_or_method(setup: Setup) -> None:
    verifier, clock, sealed = setup
    tampered_body, tampered_path = BODY.replace(b"30", b"5"), PATH.replace("1/dis", "2/dis")
    for method, path, body in (
        ("POST", PATH, tampered_body),
        ("POST", tampered_path, BODY),
        ("PUT", PATH, BODY),
    ):
        with pytest.raises(InvalidSignature, match="does not match"):
            await _verify(verifier, sealed, _signed(clock), method=method, path=path, body=body)


async def test_missing_signature_when_required_or_sensitive(setup: Setup) -> None:
    verifier, _, sealed = setup
    with pytest.raises(InvalidSignature, match="requires signed requests"):
        await _verify(verifier, sealed, {}, mode="required", sensitive=False)
    with pytest.raises(InvalidSignature, match="must be signed"):
        await _verify(verifier, sealed, {}, mode="optional", sensitive=True)
    # Optional and not sensitive, or signing off: unsigned is fine.
    assert await _verify(verifier, sealed, {}, mode="optional", sensitive=False) is False
    assert await _verify(verifier, sealed, {}, mode="off", sensitive=True) is False


async def test_a_present_signature_is_verified_even_when_signing_is_off(setup: Setup) -> None:
    verifier, clock, sealed = setup
    with pytest.raises(InvalidSignature, match="does not match"):
        await _verify(verifier, sealed, _signed(clock, secret="wrong"), mode="off")


async def test_malformed_headers(setup: Setup) -> None:
    verifier, clock, sealed = setup
    good = _signed(clock)
    with pytest.raises(InvalidSignature, match="Unix seconds"):
        await _verify(verifier, sealed, {**good, "X-Timestamp": "yesterday"})
    with pytest.raises(InvalidSignature, match="64 lowercase hex"):
        await _verify(verifier, sealed, {**good, "X-Signature": "zz"})
    with pytest.raises(InvalidSignature, match="without X-Timestamp"):
        await _verify(verifier, sealed, {"X-Signature": good["X-Signature"]})


async def test_either_secret_verifies_during_a_rotation_overlap(setup: Setup) -> None:
    verifier, clock, sealed = setup
    crypto = Crypto(b"k" * 32, Environment.SANDBOX)
    newer = (crypto.envelope.seal(b"vgcs_test_new", "client-secret:c1"), "client-secret:c1")
    both = [newer, *sealed]
    assert await _verify(verifier, both, _signed(clock)) is True
    assert await _verify(verifier, both, _signed(clock, secret="vgcs_test_new", offset=1)) is True
