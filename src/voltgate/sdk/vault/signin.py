"""A user's sign-in, both ends: the authorization URL (RFC 6749 §4.1.1) built from the
platform's profile with a fresh `state` and a PKCE pair (RFC 7636 §4.1-4.2, S256), then the
redirect's answer checked against that state and its code handed over with the verifier.

The state and the verifier come from `secrets`; neither is logged nor shown in a `repr`. The
app keeps the `SignIn` between the two ends (in memory, or sealed: the verifier redeems the
code), keyed by its `state`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from voltgate.sdk.profiles import Profile

VERIFIER_BYTES = 48  # 64 base64url characters: inside RFC 7636's 43..128
STATE_BYTES = 24


class SignInError(Exception):
    """The redirect does not end this sign-in: the user or the platform said no (`error`,
    RFC 6749 §4.1.2.1), its state is another sign-in's, or it carries no code."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


@dataclass(frozen=True, slots=True)
class SignIn:
    """One sign-in under way: send the user to `url`; keep the rest for the redirect."""

    url: str
    state: str
    code_verifier: str
    redirect_uri: str

    def __repr__(self) -> str:  # the verifier redeems the code: never in a log or traceback
        return f"SignIn(redirect_uri={self.redirect_uri!r}, …)"


def s256(verifier: str) -> str:
    """The PKCE code challenge of `verifier`: base64url(SHA-256), no padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def start(
    profile: Profile,
    client_id: str,
    redirect_uri: str,
    scope: str | None = None,
    *,
    base_url: str | None = None,
    region: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> SignIn:
    """A new sign-in: its authorization URL on the profile's authorization endpoint (under
    `base_url` when given), with a new state and code challenge. `scope` None: the app's
    registered scopes (ev.energy's guide leaves it out); `extra`: more parameters (`nonce`,
    `prompt`, `locale`, …)."""
    state = secrets.token_urlsafe(STATE_BYTES)
    verifier = secrets.token_urlsafe(VERIFIER_BYTES)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        **({"scope": scope} if scope else {}),
        "state": state,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **(extra or {}),
    }
    endpoint = profile.authorize_endpoint(base_url, region)
    joiner = "&" if urlsplit(endpoint).query else "?"
    return SignIn(f"{endpoint}{joiner}{urlencode(params)}", state, verifier, redirect_uri)


def code_from(sign_in: SignIn, answer: Mapping[str, str] | str) -> str:
    """The code of the redirect's `answer` (its query as a mapping, or the URL the browser
    landed on), once its state is this sign-in's; `SignInError` otherwise."""
    if isinstance(answer, str):
        answer = dict(parse_qsl(urlsplit(answer).query))
    if answer.get("error"):
        raise SignInError(answer["error"], answer.get("error_description", ""))
    if not hmac.compare_digest(answer.get("state", "").encode(), sign_in.state.encode()):
        raise SignInError("state_mismatch", "the answer belongs to another sign-in")
    code = answer.get("code")
    if not code:
        raise SignInError("no_code", "the answer carries no authorization code")
    return code
