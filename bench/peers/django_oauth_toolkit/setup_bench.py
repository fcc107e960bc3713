"""Prepare the bench's SQLite database: migrate, create a user and a confidential
client_credentials application, print its credentials as JSON on stdout.

Run with the peer's venv and the server's environment (DOT_BENCH_DB, DOT_BENCH_SECRET_KEY):

    python setup_bench.py [--unhashed] [--refresh-token]

--unhashed: the application is stored with `hash_client_secret=False` (DOT's default is True,
hashed with Django's default password hasher). --refresh-token: also an access token with a
refresh token for the bench user through DOT's models, for the refresh workload.
"""

import argparse
import datetime
import json
import os
import secrets
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--unhashed", action="store_true")
    parser.add_argument("--refresh-token", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
    import django

    django.setup()

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import get_hasher
    from django.core.management import call_command
    from django.utils import timezone
    from oauth2_provider.generators import generate_client_id, generate_client_secret
    from oauth2_provider.models import (
        get_access_token_model,
        get_application_model,
        get_refresh_token_model,
        set_token_value,
    )

    call_command("migrate", interactive=False, verbosity=0)
    user = get_user_model().objects.create_user("bench")  # no usable password
    application_model = get_application_model()
    client_id, client_secret = generate_client_id(), generate_client_secret()
    application = application_model(
        name="bench",
        user=user,
        client_id=client_id,
        client_secret=client_secret,  # hashed on save unless hash_client_secret is False
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
        hash_client_secret=not args.unhashed,
    )
    application.save()
    hasher = get_hasher()  # what DOT's CLIENT_SECRET_HASHER "default" resolves to
    out: dict[str, object] = {
        "client_id": client_id,
        "client_secret": client_secret,
        "secret_stored_hashed": application.client_secret != client_secret,
        "refresh_token": None,
        "hasher": f"{hasher.algorithm}, {getattr(hasher, 'iterations', '?')} iterations",
    }
    if args.refresh_token:
        access = get_access_token_model()(
            user=user,
            application=application,
            expires=timezone.now() + datetime.timedelta(hours=1),
            scope="read write",
        )
        set_token_value(access, secrets.token_urlsafe(30))
        access.save()
        refresh = get_refresh_token_model()(user=user, application=application, access_token=access)
        raw_refresh = secrets.token_urlsafe(30)
        set_token_value(refresh, raw_refresh)
        refresh.save()
        out["refresh_token"] = raw_refresh
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
