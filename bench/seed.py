"""`python -m bench.seed --count N`: an app, a user and N authorization codes of theirs, as JSON,
in the voltgate whose settings the environment holds (`VOLTGATE_*`, as `voltgate …` reads them).

voltgate has no authorization endpoint yet (issue 3's next slice), so the codes are minted as that
endpoint will mint them once a user has consented: `Delegation.issue_code` on a runtime over the
server's own database and master key. The caller redeems them at the token endpoint within the
minute a code lives; each redemption starts a token family.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
from typing import Any

from voltgate.cli.common import started_runtime

REDIRECT_URI = "https://bench.example/callback"
SCOPES = ("vehicle:read",)


async def seed(count: int) -> dict[str, Any]:
    async with started_runtime() as rt:
        made = await rt.identity.admin.create(
            name="bench refresh app",
            kind="third_party",
            scopes=" ".join(SCOPES),
            redirect_uris=[REDIRECT_URI],
        )
        user = await rt.identity.users.create(
            f"bench-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(16)
        )
        codes = [
            await rt.identity.delegation.issue_code(
                client=made.client,
                user_id=user.id,
                redirect_uri=REDIRECT_URI,
                scopes=SCOPES,
                auth_time=rt.clock.now(),
            )
            for _ in range(count)
        ]
    return {
        "client_id": made.client.id,
        "client_secret": made.secret,
        "redirect_uri": REDIRECT_URI,
        "codes": codes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__)
    parser.add_argument("--count", type=int, required=True, help="codes to mint")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(seed(args.count))))


if __name__ == "__main__":
    main()
