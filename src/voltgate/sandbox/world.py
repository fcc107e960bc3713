"""The sandbox's believable world, provisioned by `voltgate sandbox` on every start.

An operator with two sites in different time zones and a fleet of chargers spread over them;
users, each with vehicles and a home energy site, the first with a home charger; a registered
third-party app. Every secret and password is re-issued on each start (only hashes are
stored), so the printed credentials are the ones that work. Things already provisioned are
kept: the same sites, chargers, users and vehicles come back, with the data they produced.

The chargers themselves are run by `voltgate sim chargers` in a child process: this module
registers them (in their sites, through the enrollment service, as an installer would) and
hands their credentials over in the simulator's state file.

The first start also gives the world a past: 30 days of charging, ending then, for every
charger and vehicle (`backfill.py`); later starts keep it and add none.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voltgate.devices.enrollment import SANDBOX_OPERATOR
from voltgate.devices.schemas import ConnectorSpec, DeviceRegistration, EnrollmentCreate
from voltgate.energy.seed import seed_energy_site
from voltgate.runtime import Runtime
from voltgate.sandbox.backfill import SEED, Backfill, Home
from voltgate.simulator.fleet import FIRMWARE
from voltgate.simulator.physics import HOME_MODEL, MODELS, Model
from voltgate.sites.schemas import SiteCreate
from voltgate.vehicles.seed import seed_vehicles
from voltgate.web import sandbox as sandbox_page

APP_SCOPES = (
    "openid offline_access profile email user_data vehicle_device_data vehicle_location "
    "vehicle_cmds vehicle_charging_cmds energy_device_data energy_cmds "
    "charging_session:read vehicle:read"
)


# be.ENERGISED's guide signs in as this contact; the sandbox has it, with that password.
DEMO_CONTACT = ("demo-user", "demo-user-password", "demo-user@sandbox.voltgate.test", "Demo User")
BEENERGISED_APP = "Sandbox be.ENERGISED app"


@dataclass(frozen=True, slots=True)
class Person:
    email: str
    name: str


USERS = (
    Person("driver@sandbox.voltgate.test", "Sandbox Driver"),
    Person("alex@sandbox.voltgate.test", "Alex Neighbour"),
)
SITES = (
    SiteCreate(
        name="Harbourside Car Park",
        address="1 Harbour Way, Bristol",
        latitude=51.4484,
        longitude=-2.5977,
        timezone="Europe/London",
        grid_limit_kw=400,
    ),
    SiteCreate(
        name="Isar Campus Garage",
        address="Erhardtstraße 10, München",
        latitude=48.1303,
        longitude=11.5775,
        timezone="Europe/Berlin",
        grid_limit_kw=250,
    ),
)


async def _ensure_client(
    rt: Runtime, name: str, kind: str, scopes: str, redirect_uris: tuple[str, ...] = ()
) -> dict[str, str]:
    """The sandbox client `name`, registered as asked, with a secret re-issued now.

    A same-named client registered otherwise (another issuer's redirect URI) is disabled.
    """
    wanted = (kind, tuple(scopes.split()), redirect_uris)
    current = None
    for client in await rt.identity.admin.list_all():
        if client.name != name or client.disabled:
            continue
        if (client.kind.value, client.scopes, client.redirect_uris) == wanted and current is None:
            current = client
        else:
            await rt.identity.admin.disable(client.id, via="sandbox")
    if current is not None:
        secret = await rt.identity.admin.rotate_secret(current.id, overlap=0, via="sandbox")
        return {"client_id": current.id, "client_secret": secret}
    created = await rt.identity.admin.create(
        name=name, kind=kind, scopes=scopes, redirect_uris=list(redirect_uris)
    )
    return {"client_id": created.client.id, "client_secret": created.secret or ""}


async def _ensure_user(rt: Runtime, person: Person) -> dict[str, Any]:
    """The user, with a password re-issued now (only its argon2id hash is stored)."""
    password = secrets.token_urlsafe(18)
    user = next((u for u in await rt.identity.users.list_all() if u.email == person.email), None)
    if user is None:
        user = await rt.identity.users.create(person.email, password, person.name)
    else:
        await rt.identity.users.set_password(user.id, password)
    return {
        "email": user.email,
        "password": password,
        "user_id": user.id,
        "name": user.display_name,
        "disabled": user.disabled_at is not None,
    }


async def _ensure_sites(rt: Runtime, operator_id: str) -> list[str]:
    existing = {
        site.name: site.id for site in (await rt.fleet.sites.page(operator_id, 1, 100)).items
    }
    ids = []
    for spec in SITES:
        site_id = existing.get(spec.name)
        if site_id is None:
            site_id = (await rt.fleet.sites.create(operator_id, spec)).id
        ids.append(site_id)
    return ids


@dataclass(frozen=True, slots=True)
class Planned:
    """One charger of the world: where it stands, which model it is, who owns it."""

    site_id: str | None
    model: Model
    owner: str | None = None  # the user id of a home charger


def _plan(site_ids: list[str], fleet: int, home_owner: str) -> list[Planned]:
    """`fleet` public chargers spread over the sites, then one home charger."""
    if fleet == 0:
        return []
    public = [Planned(site_ids[i % len(site_ids)], MODELS[i % len(MODELS)]) for i in range(fleet)]
    return [*public, Planned(None, HOME_MODEL, home_owner)]


async def _register(rt: Runtime, operator_id: str, want: Planned, index: int) -> dict[str, str]:
    spec = EnrollmentCreate(site_id=want.site_id, uses=1, expires_in=60)
    _, token = await rt.fleet.enrollments.create(operator_id, spec, via="sandbox")
    registered = await rt.fleet.devices.register(
        f"Bearer {token}",
        DeviceRegistration(
            sn=f"SBX-{secrets.token_hex(3).upper()}-{index:03d}",
            model=want.model.name,
            manufacturer="voltgate simulator",
            firmware_version=FIRMWARE,
            connectors=[ConnectorSpec(type=t, max_power_kw=kw) for t, kw in want.model.connectors],
        ),
    )
    return {
        "device_id": registered.device.id,
        "device_secret": registered.secret,
        "model": want.model.name,
    }


async def _ensure_chargers(
    rt: Runtime, operator_id: str, plan: list[Planned], state: Path, issuer: str
) -> list[dict[str, str]]:
    """The planned chargers, re-used from the simulator's state file where they still match
    (same device, site and model), registered otherwise; the state file is rewritten."""
    saved: list[dict[str, str]] = []
    if state.exists():
        try:
            saved = json.loads(state.read_text()).get("chargers", [])
        except (OSError, ValueError):
            saved = []
    pool = list(saved)
    chargers = []
    for index, want in enumerate(plan):
        found = None
        for entry in pool:
            device = await rt.fleet.devices.find(str(entry.get("device_id", "")))
            if (
                device is not None
                and device.operator_id == operator_id
                and device.site_id == want.site_id
                and entry.get("model") == want.model.name
            ):
                found = entry
                break
        if found is not None:
            pool.remove(found)
        else:
            found = await _register(rt, operator_id, want, index)
        if want.owner is not None:
            await rt.fleet.devices.set_owner(found["device_id"], want.owner)
        chargers.append(found)
    body = json.dumps({"server": issuer, "chargers": chargers}, indent=2)
    state.parent.mkdir(parents=True, exist_ok=True)
    # The chargers' secrets: readable by this user only.
    fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    return chargers


async def provision_sandbox(
    rt: Runtime,
    issuer: str,
    *,
    fleet: int = 0,
    fleet_state: Path | None = None,
    history_seed: int | None = SEED,
    charge_points: int = 0,
) -> dict[str, Any]:
    """The sandbox world; the credentials to print, every secret and password re-issued now.

    With `fleet` > 0 and a `fleet_state` path, also `fleet` public chargers and a home charger,
    registered (or kept) and written to `fleet_state` for `voltgate sim chargers --state`.
    What is new gets 30 days of history ending now, drawn from `history_seed` (None: none).
    The chargers at the sites are public charge points; `charge_points` imported ones are
    generated over Europe's cities, once (a restart with the same number adds none).
    """
    past = None if history_seed is None else Backfill(history_seed, rt.clock.now())
    operator = await _ensure_client(rt, SANDBOX_OPERATOR, "operator", "read write")
    site_ids = await _ensure_sites(rt, operator["client_id"])
    users = [await _ensure_user(rt, person) for person in USERS]
    for index, user in enumerate(users):
        user.update(await _owner_world(rt, user["user_id"], past, index))
    redirect_uri = sandbox_page.callback_uri(issuer)
    app = await _ensure_client(
        rt, sandbox_page.APP_NAME, "third_party", APP_SCOPES, (redirect_uri,)
    )
    be_app = await _ensure_client(rt, BEENERGISED_APP, "beenergised_app", "contact")
    chargers: list[dict[str, str]] = []
    if fleet and fleet_state is not None:
        plan = _plan(site_ids, fleet, users[0]["user_id"])
        chargers = await _ensure_chargers(rt, operator["client_id"], plan, fleet_state, issuer)
        found = [await rt.fleet.devices.find(c["device_id"]) for c in chargers]
        await rt.fleet.chargers.sync(d for d in found if d is not None)
        if past is not None:
            home = await _home(rt, users[0])
            ids = [c["device_id"] for c in chargers]
            await past.chargers(rt, operator["client_id"], ids, home)
    await rt.fleet.charge_points.generate_up_to(charge_points, SEED, rt.clock.now())
    return {
        "operator": {**operator, "site_ids": site_ids},
        "users": users,
        "third_party_app": {**app, "redirect_uri": redirect_uri},
        "chargers": [c["device_id"] for c in chargers],
        "beenergised": {"psk": be_app["client_secret"], **await _demo_contact(rt)},
    }


async def _demo_contact(rt: Runtime) -> dict[str, str]:
    """be.ENERGISED's demo contact: the guide's own username and password work as written
    (a sandbox's only fixed password: the guide prints it)."""
    username, password, email, name = DEMO_CONTACT
    user = await rt.identity.users.by_email(email)
    if user is None:
        user = await rt.identity.contacts.register(name, email, password, username)
    else:
        await rt.identity.users.set_password(user.id, password)
        await rt.identity.contacts.name_user(user.id, username)
    return {"username": username, "password": password, "user_id": user.id}


async def _owner_world(
    rt: Runtime, user_id: str, past: Backfill | None, index: int
) -> dict[str, Any]:
    """A user's vehicles and home energy site (kept when they exist), as the credentials show
    them: enough to paste the first requests. New vehicles come with their past."""
    site = await seed_energy_site(rt.owner.energy, rt.coordinator, user_id)
    history = None if past is None else past.vehicles(rt, site.time_zone, index)
    # In seeding order: the one charging at home, the one asleep at the office, the one that
    # takes only signed commands.
    vehicles = sorted(
        await seed_vehicles(rt.owner.vehicles, rt.identity.users, user_id, history),
        key=lambda v: (v.seed_slot or 0, v.id),
    )
    return {
        "vehicles": [
            {
                "id": v.id,
                "vin": v.vin,
                "display_name": v.display_name,
                "command_signing": v.command_signing,
            }
            for v in vehicles
        ],
        "energy_site_id": site.id,
    }


async def _home(rt: Runtime, user: dict[str, Any]) -> Home | None:
    """The first user's home: their Model 3 charges on the home charger, in their time zone."""
    cars = [v for v in await rt.owner.vehicles.of_user(user["user_id"]) if v.seed_slot == 1]
    sites = await rt.owner.energy.of_user(user["user_id"])
    if not cars or not sites:
        return None
    return Home(user["user_id"], 0, cars[0], sites[0].time_zone)
