"""External IdP access tokens (Auth0-style) as bearer: verified against a live JWKS server on
127.0.0.1 serving keys the test makes, with tokens the test mints."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from pydantic import ValidationError

from tests.conftest import Backend, make_settings
from tests.fixtures.jwks import JwksServer, ec_key, rsa_key
from voltgate.app import create_app
from voltgate.clock import FrozenClock
from voltgate.config import Settings
from voltgate.errors import ExpiredToken, InvalidToken
from voltgate.identity.external import ExternalTokens, external_tokens
from voltgate.identity.jwks import parse_key_set

ISSUER = "https://tenant.idp.test/"
AUDIENCE = "https://api.beenergised.test"
START = 1_800_000_000.0


@pytest.fixture
def server() -> Iterator[JwksServer]:
    jwks = JwksServer()
    try:
        yield jwks
    finally:
        jwks.stop()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "auth0|contact-42",
        "aud": [AUDIENCE, f"{ISSUER}userinfo"],
        "iat": int(START),
        "exp": int(START) + 3600,
        "email": "ada@example.com",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def mint(key: RSAKey | ECKey, alg: str, **overrides: Any) -> str:
    return jwt.encode({"alg": alg, "kid": key.kid}, claims(**overrides), key)


def forge(header: dict[str, Any], body: dict[str, Any], signature: bytes) -> str:
    def enc(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{enc(json.dumps(header).encode())}.{enc(json.dumps(body).encode())}"
    return f"{signing_input}.{enc(signature)}"


def tokens(url: str, clock: FrozenClock, **settings: Any) -> ExternalTokens:
    values: dict[str, Any] = {
        "external_idp_issuer": ISSUER,
        "external_idp_jwks_url": url,
        "external_idp_audience": AUDIENCE,
        **settings,
    }
    verifier = external_tokens(Settings(**values), clock)
    assert verifier is not None
    return verifier


async def refused(verifier: ExternalTokens, token: str, kind: type[InvalidToken]) -> str:
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    assert type(caught.value) is kind
    description = str(caught.value)
    assert not any(len(part) > 8 and part in description for part in token.split("."))
    return description


async def test_rs256_and_es256_tokens_name_their_user(
    server: JwksServer, clock: FrozenClock
) -> None:
    rsa, ec = rsa_key("rsa-1"), ec_key("ec-1")
    server.publish(rsa, ec)
    verifier = tokens(server.url, clock)

    identity = await verifier.verify(mint(rsa, "RS256"))
    assert (identity.issuer, identity.subject, identity.user_claim_value) == (
        ISSUER,
        "auth0|contact-42",
        "auth0|contact-42",
    )
    assert identity.email == "ada@example.com"
    assert identity.expires_at == START + 3600
    assert identity.create_users is False
    es = await verifier.verify(mint(ec, "ES256", sub="auth0|other", aud=AUDIENCE, email=None))
    assert (es.subject, es.email, es.claims["aud"]) == ("auth0|other", None, AUDIENCE)
    assert server.fetches == 1


async def test_a_configured_claim_names_the_user(server: JwksServer, clock: FrozenClock) -> None:
    key = rsa_key("rsa-1")
    server.publish(key)
    verifier = tokens(
        server.url,
        clock,
        external_idp_user_claim="https://beenergised.test/contact",
        external_idp_email_claim="https://beenergised.test/email",
        external_idp_create_users=True,
    )
    token = mint(
        key,
        "RS256",
        **{"https://beenergised.test/contact": 1234, "https://beenergised.test/email": "a@b.c"},
    )
    identity = await verifier.verify(token)
    assert (identity.user_claim_value, identity.email, identity.create_users) == (
        "1234",
        "a@b.c",
        True,
    )
    description = await refused(verifier, mint(key, "RS256"), InvalidToken)
    assert description == (
        "the access token lacks the claim naming the user (https://beenergised.test/contact)"
    )


async def test_an_expired_token_is_refused_as_expired(
    server: JwksServer, clock: FrozenClock
) -> None:
    key = ec_key("ec-1")
    server.publish(key)
    verifier = tokens(server.url, clock, clock_skew=5)
    old = mint(key, "ES256", iat=int(START) - 3700, exp=int(START) - 100)
    assert "expired" in await refused(verifier, old, ExpiredToken)

    # A verified token is kept, and refused as expired once its exp (plus the skew) is past.
    token = mint(key, "ES256")
    await verifier.verify(token)
    clock.advance(3604)
    assert (await verifier.verify(token)).subject == "auth0|contact-42"
    clock.advance(1)
    await refused(verifier, token, ExpiredToken)


async def test_time_claims_are_checked_with_the_clock_skew(
    server: JwksServer, clock: FrozenClock
) -> None:
    key = ec_key("ec-1")
    server.publish(key)
    verifier = tokens(server.url, clock, clock_skew=5)
    assert await verifier.verify(mint(key, "ES256", nbf=int(START) + 5, iat=int(START) + 5))
    assert "not valid yet" in await refused(
        verifier, mint(key, "ES256", nbf=int(START) + 6), InvalidToken
    )
    assert "issued in the future" in await refused(
        verifier, mint(key, "ES256", iat=int(START) + 6), InvalidToken
    )
    assert "no expiry" in await refused(verifier, mint(key, "ES256", exp=None), InvalidToken)
    assert "NumericDate" in await refused(verifier, mint(key, "ES256", exp="soon"), InvalidToken)


async def test_wrong_audience_and_wrong_issuer_are_refused(
    server: JwksServer, clock: FrozenClock
) -> None:
    key = rsa_key("rsa-1")
    server.publish(key)
    verifier = tokens(server.url, clock)
    for aud in ("https://other.api", ["https://other.api"], None):
        description = await refused(verifier, mint(key, "RS256", aud=aud), InvalidToken)
        assert description == "the access token was issued for another audience"
    for iss in ("https://evil.test/", ISSUER.rstrip("/"), None):
        description = await refused(verifier, mint(key, "RS256", iss=iss), InvalidToken)
        assert description == "the access token was issued by an issuer this server does not trust"
    assert server.fetches == 1


async def test_algorithm_confusion_is_refused(server: JwksServer, clock: FrozenClock) -> None:
    rsa, ec = rsa_key("rsa-1"), ec_key("ec-1")
    server.publish(rsa, ec)
    verifier = tokens(server.url, clock)
    not_accepted = "the access token's algorithm is not accepted (RS256 or ES256)"
    none = forge({"alg": "none", "kid": "rsa-1"}, claims(), b"x")
    assert await refused(verifier, none, InvalidToken) == not_accepted
    assert await refused(verifier, none.rsplit(".", 1)[0] + ".", InvalidToken) == (
        "the access token is malformed"
    )
    # HS256 keyed with the RSA public key, the classic confusion: never reaches a key.
    public_pem = rsa.as_pem(private=False)
    header, body = {"alg": "HS256", "kid": "rsa-1"}, claims()
    unsigned = forge(header, body, b"").rsplit(".", 1)[0]
    mac = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    assert await refused(verifier, forge(header, body, mac), InvalidToken) == not_accepted
    # ES256 named on an RSA key's kid, RS256 on an EC key's kid.
    es_on_rsa = jwt.encode({"alg": "ES256", "kid": "rsa-1"}, claims(), ec)
    rs_on_ec = jwt.encode({"alg": "RS256", "kid": "ec-1"}, claims(), rsa)
    mismatch = "the access token's algorithm does not match its signing key"
    assert await refused(verifier, es_on_rsa, InvalidToken) == mismatch
    assert await refused(verifier, rs_on_ec, InvalidToken) == mismatch
    no_kid = jwt.encode({"alg": "RS256"}, claims(), rsa)
    assert "no signing key" in await refused(verifier, no_kid, InvalidToken)
    crit = jwt.encode({"alg": "RS256", "kid": "rsa-1", "crit": ["b64"], "b64": True}, claims(), rsa)
    assert "critical" in await refused(verifier, crit, InvalidToken)


async def test_a_tampered_token_is_refused(server: JwksServer, clock: FrozenClock) -> None:
    rsa, ec = rsa_key("rsa-1"), ec_key("ec-1")
    server.publish(rsa, ec)
    verifier = tokens(server.url, clock)
    for key, alg in ((rsa, "RS256"), (ec, "ES256")):
        head, body, signature = mint(key, alg).split(".")
        flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
        invalid = "the access token signature is invalid"
        assert await refused(verifier, f"{head}.{body}.{flipped}", InvalidToken) == invalid
        other_body = mint(key, alg, sub="auth0|admin").split(".")[1]
        assert await refused(verifier, f"{head}.{other_body}.{signature}", InvalidToken) == invalid
    # Signed by a key of the same kid that the issuer never published.
    impostor = jwt.encode({"alg": "ES256", "kid": "ec-1"}, claims(), ec_key("ec-1"))
    assert "signature is invalid" in await refused(verifier, impostor, InvalidToken)
    for garbage in ("", "a.b", "a.b.c.d", "é.é.é", "x" * 20_000):
        assert await refused(verifier, garbage, InvalidToken) == "the access token is malformed"


async def test_rotation_refetches_once_then_rate_limits(
    server: JwksServer, clock: FrozenClock
) -> None:
    old, new, newer = rsa_key("2026-01"), ec_key("2026-02"), rsa_key("2026-03")
    server.publish(old)
    verifier = tokens(server.url, clock, external_idp_jwks_min_interval=30)
    assert await verifier.verify(mint(old, "RS256"))
    assert server.fetches == 1

    server.publish(old, new)
    clock.advance(31)
    assert (await verifier.verify(mint(new, "ES256"))).subject == "auth0|contact-42"
    assert server.fetches == 2
    # The issuer rotates again at once: a kid unknown within 30 s of the last fetch is refused
    # without asking the server.
    server.publish(old, new, newer)
    description = await refused(verifier, mint(newer, "RS256"), InvalidToken)
    assert description == f"the access token is signed with a key {ISSUER} does not publish"
    unknown = jwt.encode({"alg": "RS256", "kid": "nobody"}, claims(), newer)
    await refused(verifier, unknown, InvalidToken)
    assert server.fetches == 2
    # Known keys need no fetch; after the interval the new key is learnt.
    assert await verifier.verify(mint(old, "RS256", sub="auth0|again"))
    clock.advance(30)
    assert await verifier.verify(mint(newer, "RS256"))
    assert server.fetches == 3


async def test_an_old_key_set_is_fetched_again_after_its_max_age(
    server: JwksServer, clock: FrozenClock
) -> None:
    key = ec_key("ec-1")
    server.publish(key)
    verifier = tokens(server.url, clock, external_idp_jwks_max_age=600)
    await verifier.verify(mint(key, "ES256"))
    server.publish()  # the issuer withdraws the key
    clock.advance(601)
    withdrawn = mint(key, "ES256", sub="auth0|later", iat=int(START) + 601)
    assert "does not publish" in await refused(verifier, withdrawn, InvalidToken)
    assert server.fetches == 2


async def test_concurrent_requests_share_one_fetch(server: JwksServer, clock: FrozenClock) -> None:
    key = ec_key("ec-1")
    server.publish(key)
    verifier = tokens(server.url, clock, external_idp_jwks_min_interval=0)
    minted = [mint(key, "ES256", sub=f"auth0|{n}") for n in range(20)]
    identities = await asyncio.gather(*(verifier.verify(token) for token in minted))
    assert [i.subject for i in identities] == [f"auth0|{n}" for n in range(20)]
    assert server.fetches == 1


async def test_an_unreachable_key_set_refuses_unknown_keys_and_keeps_known_ones(
    server: JwksServer, clock: FrozenClock
) -> None:
    key = rsa_key("rsa-1")
    server.publish(key)
    verifier = tokens(server.url, clock)
    await verifier.verify(mint(key, "RS256"))
    server.stop()
    clock.advance(31)
    description = await refused(verifier, mint(ec_key("ec-2"), "ES256"), InvalidToken)
    assert description == (
        f"the access token is signed with a key {ISSUER} does not publish (its key set is "
        "unavailable: the key set URL could not be reached (ConnectError))"
    )
    assert (await verifier.verify(mint(key, "RS256", sub="auth0|still"))).subject == "auth0|still"


async def test_an_issuer_never_reached_refuses_every_token(clock: FrozenClock) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    verifier = tokens(f"http://127.0.0.1:{port}/jwks", clock)
    description = await refused(verifier, mint(ec_key("ec-1"), "ES256"), InvalidToken)
    assert description.endswith(
        "(its key set is unavailable: the key set URL could not be reached (ConnectError))"
    )


async def test_a_silent_key_set_server_times_out(clock: FrozenClock) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections into the backlog and never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/jwks"
        verifier = tokens(url, clock, external_idp_jwks_timeout=0.2)
        description = await refused(verifier, mint(ec_key("ec-1"), "ES256"), InvalidToken)
    assert description.endswith(
        "(its key set is unavailable: the key set URL did not answer in time)"
    )


async def test_bad_key_set_answers_are_refused(server: JwksServer, clock: FrozenClock) -> None:
    key = ec_key("ec-1")
    server.publish(key)
    server.status = 500
    verifier = tokens(server.url, clock, external_idp_jwks_min_interval=0)
    assert "answered HTTP 500" in await refused(verifier, mint(key, "ES256"), InvalidToken)
    server.status = 200
    server.padding = 10_000
    verifier = tokens(
        server.url, clock, external_idp_jwks_min_interval=0, external_idp_jwks_max_bytes=4096
    )
    assert "larger than 4096 bytes" in await refused(verifier, mint(key, "ES256"), InvalidToken)
    server.padding = 0
    assert await verifier.verify(mint(key, "ES256"))


def test_only_keys_bound_to_rs256_or_es256_are_kept() -> None:
    good_rsa, good_ec = rsa_key("rsa"), ec_key("ec")
    numbers = generate_private_key(65537, 1024).public_key().public_numbers()
    weak = {"kty": "RSA", "kid": "weak", "n": _b64int(numbers.n), "e": _b64int(numbers.e)}
    off_curve = {**ec_key("off").as_dict(private=False), "y": good_ec.as_dict()["x"]}
    document = {
        "keys": [
            good_rsa.as_dict(private=False) | {"alg": "RS256", "use": "sig"},
            good_ec.as_dict(private=False) | {"key_ops": ["verify"]},
            weak,
            off_curve,
            rsa_key("enc").as_dict(private=False) | {"use": "enc"},
            rsa_key("rs384").as_dict(private=False) | {"alg": "RS384"},
            ec_key("p256-as-rs").as_dict(private=False) | {"alg": "RS256"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            rsa_key("no-kid").as_dict(private=False) | {"kid": None},
            "not a key",
        ]
    }
    keys = parse_key_set(json.dumps(document).encode())
    assert {kid: key.alg for kid, key in keys.items()} == {"rsa": "RS256", "ec": "ES256"}


async def test_several_issuers_from_json_each_with_its_own_keys(
    server: JwksServer, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = JwksServer()
    try:
        ours, theirs = rsa_key("ours"), ec_key("theirs")
        server.publish(ours)
        other.publish(theirs)
        idps = [
            {"issuer": ISSUER, "jwks_url": server.url, "audience": AUDIENCE},
            {
                "issuer": "https://partner.test",
                "jwks_url": other.url,
                "audience": "partner-api",
                "user_claim": "email",
                "create_users": True,
            },
        ]
        monkeypatch.setenv("VOLTGATE_EXTERNAL_IDPS", json.dumps(idps))
        verifier = external_tokens(Settings(), clock)
        assert verifier is not None and verifier.issuers == (ISSUER, "https://partner.test")
        partner = mint(theirs, "ES256", iss="https://partner.test", aud="partner-api")
        assert verifier.recognises(partner) and not verifier.recognises("vgst_test_abc")
        identity = await verifier.verify(partner)
        assert (identity.issuer, identity.user_claim_value, identity.create_users) == (
            "https://partner.test",
            "ada@example.com",
            True,
        )
        assert await verifier.verify(mint(ours, "RS256"))
        # The partner's key does not vouch for the first issuer, nor its audience for ours.
        await refused(verifier, mint(theirs, "ES256"), InvalidToken)
        await refused(verifier, mint(ours, "RS256", aud="partner-api"), InvalidToken)
    finally:
        other.stop()


def test_settings_for_external_idps() -> None:
    assert Settings().external_issuers == ()
    assert external_tokens(Settings(), FrozenClock()) is None
    with pytest.raises(ValidationError, match="must be set together"):
        Settings(external_idp_issuer=ISSUER, external_idp_audience=AUDIENCE)
    single = {
        "external_idp_issuer": ISSUER,
        "external_idp_jwks_url": "http://idp.internal/jwks",
        "external_idp_audience": AUDIENCE,
    }
    with pytest.raises(ValidationError, match="only once"):
        Settings(**single, external_idps=[{**_renamed(single)}])
    with pytest.raises(ValidationError, match="must be https in production"):
        Settings(**single, environment="production", master_key="A" * 43)
    loopback = {**single, "external_idp_jwks_url": "http://127.0.0.1:9/jwks"}
    assert Settings(**loopback, environment="production").external_issuers[0].user_claim == "sub"
    with pytest.raises(ValidationError, match="http"):
        Settings(**{**single, "external_idp_jwks_url": "file:///etc/passwd"})
    with pytest.raises(ValidationError, match="audiance"):
        Settings(external_idps=[{**_renamed(single), "audiance": "typo"}])


def _b64int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _renamed(single: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix("external_idp_"): v for k, v in single.items()}


@pytest.fixture
async def runtime_external(
    backend: Backend, server: JwksServer, clock: FrozenClock
) -> AsyncIterator[ExternalTokens | None]:
    settings = make_settings(
        backend,
        external_idp_issuer=ISSUER,
        external_idp_jwks_url=server.url,
        external_idp_audience=AUDIENCE,
    )
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application.state.runtime.identity.external


async def test_the_runtime_builds_the_verifier(
    runtime_external: ExternalTokens | None, server: JwksServer
) -> None:
    key = rsa_key("rsa-1")
    server.publish(key)
    assert runtime_external is not None
    assert (await runtime_external.verify(mint(key, "RS256"))).subject == "auth0|contact-42"
