"""Enrollment credentials: what lets a charger register into an operator's fleet.

An operator issues a credential for N registrations until an expiry, optionally bound to one of
its sites; the installer configures it on the chargers, which present it as
`Authorization: Bearer vget_…` to `POST /v1/device/register`. Only its keyed hash is stored and
a use is taken by compare-and-set, so N concurrent registrations never get N + 1 devices in.
A sandbox deployment also admits a registration without one, into the sandbox operator.
"""

from __future__ import annotations

from dataclasses import dataclass

from voltgate.cache.port import Coordinator
from voltgate.clock import Clock
from voltgate.devices.schemas import EnrollmentCreate
from voltgate.devices.store import Enrollment, EnrollmentStore
from voltgate.errors import InvalidToken, MissingToken, NotFound, ValidationFailed
from voltgate.identity.admin import ClientAdmin
from voltgate.identity.audit import AuditLog
from voltgate.identity.clients import ClientKind, ClientRegistry
from voltgate.identity.secrets import Crypto
from voltgate.ids import new_id
from voltgate.sites.service import Sites

SANDBOX_OPERATOR = "Sandbox operator"
TOKEN_KIND = "et"  # noqa: S105 - the prefix of vget_test_… / vget_live_… tokens


@dataclass(frozen=True, slots=True)
class Admission:
    """Where a registration lands; `enrollment_id` is None for an open sandbox registration."""

    operator_id: str
    site_id: str | None
    enrollment_id: str | None


class SandboxOperator:
    """The operator open sandbox registrations land in: the client `voltgate sandbox` keeps
    under the same name, created here if the sandbox command has not run yet."""

    def __init__(
        self, admin: ClientAdmin, registry: ClientRegistry, coordinator: Coordinator
    ) -> None:
        self._admin = admin
        self._registry = registry
        self._coordinator = coordinator
        self._id: str | None = None

    async def id(self) -> str:
        if self._id is not None and await self._usable(self._id):
            return self._id
        # Instances registering their first chargers at once must not each create one.
        async with self._coordinator.lock("sandbox-operator", ttl=30, wait=30):
            found = [
                c
                for c in await self._admin.list_all()
                if c.name == SANDBOX_OPERATOR and c.kind is ClientKind.OPERATOR and not c.disabled
            ]
            if found:
                self._id = found[0].id  # the oldest, the one `voltgate sandbox` keeps
            else:
                created = await self._admin.create(
                    name=SANDBOX_OPERATOR, kind=ClientKind.OPERATOR.value, scopes="read write"
                )
                self._id = created.client.id
        return self._id

    async def _usable(self, client_id: str) -> bool:
        client = await self._registry.get(client_id)
        return client is not None and not client.disabled


class Enrollments:
    def __init__(
        self,
        store: EnrollmentStore,
        sites: Sites,
        registry: ClientRegistry,
        crypto: Crypto,
        clock: Clock,
        audit: AuditLog,
        sandbox: SandboxOperator | None,
    ) -> None:
        self._store = store
        self._sites = sites
        self._registry = registry
        self._crypto = crypto
        self._clock = clock
        self._audit = audit
        self._sandbox = sandbox

    async def create(
        self,
        operator_id: str,
        spec: EnrollmentCreate,
        *,
        request_id: str | None = None,
        via: str = "api",
    ) -> tuple[Enrollment, str]:
        """A new credential and its token, which is shown this once."""
        operator = await self._registry.get(operator_id, fresh=True)
        if operator is None or operator.disabled:
            raise NotFound(f"no active operator {operator_id[:64]!r}")
        if operator.kind is not ClientKind.OPERATOR:
            raise ValidationFailed(f"{operator_id} is not an operator but a {operator.kind.value}")
        if spec.site_id is not None:
            await self._sites.get(operator_id, spec.site_id)
        now = self._clock.now()
        token = self._crypto.formats.secret(TOKEN_KIND)
        enrollment = Enrollment(
            id=new_id("enr_"),
            operator_id=operator_id,
            site_id=spec.site_id,
            uses=spec.uses,
            uses_left=spec.uses,
            created_at=now,
            expires_at=now + spec.expires_in,
        )
        await self._store.add(enrollment, self._crypto.hasher.hash(token))
        await self._audit.record(
            "enrollment_created",
            client_id=operator_id,
            request_id=request_id,
            enrollment_id=enrollment.id,
            site_id=spec.site_id,
            uses=spec.uses,
            via=via,
        )
        return enrollment, token

    async def admit(self, authorization: str | None) -> Admission:
        """Check the registration's credential (401 code 2001 with the reason); takes no use."""
        if not authorization:
            if self._sandbox is not None:
                return Admission(await self._sandbox.id(), None, None)
            raise MissingToken(
                "registration needs an enrollment token from the operator: "
                f"Authorization: Bearer {self._crypto.formats.prefix(TOKEN_KIND)}…"
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidToken("the Authorization header must be 'Bearer <enrollment token>'")
        formats = self._crypto.formats
        foreign = formats.foreign_environment(token)
        if foreign is not None:
            raise InvalidToken(
                f"this enrollment token belongs to the {foreign.value} environment; "
                f"this deployment is {formats.environment.value}"
            )
        if not token.startswith(formats.prefix(TOKEN_KIND)):
            raise InvalidToken(
                f"not an enrollment token: they start with {formats.prefix(TOKEN_KIND)}"
            )
        too_long = len(token) > 256
        record = None if too_long else await self._store.by_hash(self._crypto.hasher.hash(token))
        if record is None:
            raise InvalidToken("unknown enrollment token")
        if record.expires_at <= self._clock.now():
            raise InvalidToken("this enrollment token has expired; ask the operator for a new one")
        if record.uses_left <= 0:
            raise InvalidToken(f"this enrollment token is used up (all {record.uses} uses taken)")
        operator = await self._registry.get(record.operator_id)
        if operator is None or operator.disabled:
            raise InvalidToken("the operator that issued this enrollment token is disabled")
        return Admission(record.operator_id, record.site_id, record.id)

    async def consume(self, admission: Admission) -> None:
        if admission.enrollment_id is None:
            return
        if not await self._store.consume(admission.enrollment_id, self._clock.now()):
            # Another registration took the last use (or it expired) since admit().
            raise InvalidToken("this enrollment token is used up or has expired")

    async def release(self, admission: Admission) -> None:
        if admission.enrollment_id is not None:
            await self._store.release(admission.enrollment_id)
