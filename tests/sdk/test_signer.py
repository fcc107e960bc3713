"""The client-side signer: the canonical string and the worked example in docs/tellus.md."""

from __future__ import annotations

import hashlib
import hmac

from voltgate.sdk.signer import Signer, canonical, concatenated, signature

PATH = "/v1/operator/devices/dev_1/connectors/1/discharge"
BODY = b'{"discharge_power":7.4,"duration":3600,"min_soc":30}'


def test_the_canonical_string_separates_its_parts_with_newlines() -> None:
    assert canonical("post", PATH, "1763719200", BODY) == (
        b"POST\n" + PATH.encode() + b"\n1763719200\n" + BODY
    )
    # Without separators these two would sign the same bytes.
    assert canonical("GET", "/v1/devices/12", "3", b"") != canonical(
        "GET", "/v1/devices/1", "23", b""
    )


def test_the_worked_example_in_the_tellus_reference() -> None:
    expected = "e70cd63825cf381093f8982e9bb9d61b1030b3100aef40788b0c51bf327797bd"
    assert signature("vgcs_test_example-secret", "POST", PATH, "1763719200", BODY) == expected
    independent = hmac.new(
        b"vgcs_test_example-secret", canonical("POST", PATH, "1763719200", BODY), hashlib.sha256
    ).hexdigest()
    assert independent == expected


def test_the_guides_concatenated_form_and_its_worked_example() -> None:
    message = concatenated("post", PATH, "1763719200", BODY)
    assert message == b"POST" + PATH.encode() + b"1763719200" + BODY
    digest = hmac.new(b"vgcs_test_example-secret", message, hashlib.sha256).hexdigest()
    assert digest == "7e302f4c16302d09527bacb0e10e3348df30a0e462d595802431d30f6e4091d5"


def test_signer_headers() -> None:
    headers = Signer("s3cret").headers("POST", PATH, BODY, timestamp=1763719200)
    assert headers["X-Timestamp"] == "1763719200"
    assert headers["X-Signature"] == signature("s3cret", "POST", PATH, "1763719200", BODY)
