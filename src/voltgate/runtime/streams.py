"""The streams area: a hub of charger frames fed by tailing `telemetry`, a hub of vehicle
frames (fed by tailing `vehicle_messages` once a decoder is handed to `feed_vehicles`), and
the open streams of each token, ended when it is revoked or expires."""

from __future__ import annotations

from voltgate.clock import Clock
from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.identity.clients import ClientRegistry
from voltgate.identity.revocation import Revocations
from voltgate.identity.tokens import AccessClaims
from voltgate.streams import chargers, vehicles
from voltgate.streams.hub import Hub
from voltgate.streams.pump import Feed, NoFeed
from voltgate.streams.repository import SqlTail
from voltgate.streams.sessions import DISABLED, REVOKED, Refusal, Sessions
from voltgate.streams.tailer import PAGE, PG_PAGE, Tailer


class Streams:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        db: Database,
        revocations: Revocations,
        clients: ClientRegistry,
    ) -> None:
        self._db = db
        self._interval = settings.stream_poll_interval
        self._page = PAGE if db.is_sqlite else PG_PAGE
        self.chargers = Hub(settings.stream_buffer_frames)
        self.charger_feed = Tailer(
            SqlTail(db, chargers.TABLE, chargers.COLUMNS),
            self.chargers,
            chargers.frames,
            interval=self._interval,
            page=self._page,
            name="chargers",
            group=chargers.group,
        )
        self.vehicles = Hub(settings.stream_buffer_frames)
        self.vehicle_feed: Feed = NoFeed()
        refusal = _refusal(revocations, clients)
        self.sessions = Sessions(refusal, clock, settings.stream_max_per_token)
        self._tailers = [self.charger_feed]

    def feed_vehicles(self, decode: vehicles.Decode) -> Tailer:
        """Feed the vehicle hub from the rows committed to `vehicle_messages`, each payload
        decoded by `decode` (the protobuf bytes a vehicle sent → its signals). Call it once,
        before the dialects are mounted: they bind `vehicle_feed`."""
        tailer = Tailer(
            SqlTail(self._db, vehicles.TABLE, vehicles.COLUMNS),
            self.vehicles,
            vehicles.frames_of(decode),
            interval=self._interval,
            page=self._page,
            name="vehicles",
        )
        self.vehicle_feed = tailer
        self._tailers.append(tailer)
        return tailer

    def drain(self) -> None:
        """The server is stopping: every stream closes now (1001, going away)."""
        self.chargers.drain()
        self.vehicles.drain()

    async def stop(self) -> None:
        self.drain()
        await self.sessions.stop()
        for tailer in self._tailers:
            await tailer.stop()


def _refusal(revocations: Revocations, clients: ClientRegistry) -> Refusal:
    """Why a token with open streams may no longer be used, as the bearer guard would say."""

    async def refusal(claims: AccessClaims) -> str | None:
        if revocations.is_revoked(claims):
            return REVOKED
        client = await clients.get(claims.client_id)  # cached; dropped when it changes
        return DISABLED if client is None or client.disabled else None

    return refusal
