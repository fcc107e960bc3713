"""Charging records: the sessions chargers report, idempotent on (device, transaction id).

A charger reports a session when it starts (open: no `stopped_at`) and when it stops; a
firmware retry after a lost response resends the same body. So: a new transaction id creates
the record; a report for an open record updates it (compare-and-set, so a concurrent stop
report wins once); a stopped record is final — the same values again get the stored record,
different ones 409 (code 4001). Connector and start time never change under one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from voltgate.changes import Changes
from voltgate.charging.aggregate import (
    EnergyReport,
    build_report,
    check_range,
    granularity_of,
)
from voltgate.charging.schemas import RecordIn, seconds
from voltgate.charging.store import ChargingRecord, ChargingStore, RecordFilter, TransactionTaken
from voltgate.clock import Clock
from voltgate.devices.schemas import check_named
from voltgate.devices.service import Devices
from voltgate.devices.store import Connector
from voltgate.errors import Conflict, NotFound, ValidationFailed
from voltgate.ids import new_id
from voltgate.pagination import (
    Page,
    Slice,
    check_size,
    decode_cursor,
    offset_of,
    slice_of,
)
from voltgate.readmodel import Tracked
from voltgate.sites.service import Sites

# A start time up to this far ahead of the server's clock is the charger's clock drift.
MAX_FUTURE = 300.0
_SAME = 1e-3  # seconds: a time sent as RFC 3339 and as a number compares equal


class Charging:
    def __init__(
        self,
        store: ChargingStore,
        devices: Devices,
        clock: Clock,
        heard_from: Callable[[str, float], None],
        sites: Sites,
        changes: Changes,
    ) -> None:
        # Per operator and per home charger's owner: moved by every stored report.
        self._tracked = Tracked("charging-record", changes)
        self.versions = self._tracked.versions
        self._store = store
        self._devices = devices
        self._sites = sites
        self._clock = clock
        self._heard_from = heard_from

    def version(self, operator_id: str) -> tuple[int, int, int]:
        """What a kept answer over the operator's records holds to: the records, and the
        chargers and sites they are filtered by and summed in the time zones of."""
        return (
            self.versions.of(operator_id),
            self._devices.versions.of(operator_id),
            self._sites.versions.of(operator_id),
        )

    async def report(self, device_id: str, body: RecordIn) -> tuple[ChargingRecord, bool]:
        """The stored record, and whether this report created it."""
        device = await self._devices.find(device_id)
        if device is None:
            raise NotFound("no charger is registered under this device token")
        held = {c.number for c in device.connectors}
        check_named(body.connector, held, device.learns_connectors, "connector")
        now = self._clock.now()
        if seconds(body.started_at) > now + MAX_FUTURE:
            raise ValidationFailed("started_at: in the future")
        device = await self._devices.learn(device, [Connector(body.connector, None, None)])
        self._heard_from(device_id, now)
        wanted = ChargingRecord(
            id=new_id("chg_"),
            device_id=device.id,
            operator_id=device.operator_id,
            transaction_id=body.transaction_id,
            connector=body.connector,
            started_at=seconds(body.started_at),
            stopped_at=None if body.stopped_at is None else seconds(body.stopped_at),
            energy_kwh=body.energy_kwh,
            meter_start=body.meter_start,
            meter_stop=body.meter_stop,
            meter_values=tuple(v.view() for v in body.meter_values),
            created_at=now,
            updated_at=now,
        )
        for _ in range(3):
            stored = await self._store.by_transaction(device.id, body.transaction_id)
            if stored is None:
                try:
                    await self._store.add(wanted)
                except TransactionTaken:
                    continue  # a concurrent report created it: judge against that one
                await self._tracked.changed((device.operator_id, device.owner_user_id))
                return wanted, True
            if _same_report(stored, wanted):
                return stored, False
            _check_compatible(stored, wanted)
            updated = replace(wanted, id=stored.id, created_at=stored.created_at)
            if await self._store.update_open(updated):
                await self._tracked.changed((device.operator_id, device.owner_user_id))
                return updated, False
            # Stopped by a concurrent report since we read it: judge against that one.
        raise Conflict(f"transaction {body.transaction_id!r} is being reported concurrently")

    async def by_transaction(self, device_id: str, transaction_id: str) -> ChargingRecord | None:
        """The charger's record of one transaction, if it reported one (whoever operates it:
        the caller knows the charger and the transaction it started)."""
        if "\x00" in device_id or "\x00" in transaction_id:
            return None
        return await self._store.by_transaction(device_id[:64], transaction_id[:64])

    async def add_history(self, records: Sequence[ChargingRecord]) -> None:
        """Store finished sessions of the past together, as given (a seeded history: the caller
        chose their ids, times and meter values); Conflict, storing none, when one's transaction
        is already stored."""
        if not records:
            return
        now = self._clock.now()
        owners: dict[str, tuple[str, str | None]] = {}  # device -> (operator, owning user)
        for record in records:
            if record.device_id not in owners:
                device = await self._devices.find(record.device_id)
                if device is None:
                    raise NotFound(f"no charger {record.device_id!r}")
                owners[device.id] = (device.operator_id, device.owner_user_id)
            if record.operator_id != owners[record.device_id][0]:
                raise ValidationFailed(f"charger {record.device_id!r} is not that operator's")
            if record.stopped_at is None or record.stopped_at > now:
                raise ValidationFailed("a history holds finished sessions of the past only")
        try:
            await self._store.add_many(records)
        except TransactionTaken:
            raise Conflict("a transaction of this history is already stored") from None
        await self._tracked.changed({owner for pair in owners.values() for owner in pair})

    async def page(self, which: RecordFilter, page: int, size: int) -> Page[ChargingRecord]:
        """One page (newest first) of the operator's records that `which` selects."""
        offset = offset_of(page, size)
        items, total = await self._store.page(await self._checked(which), offset, size)
        return Page(items, total, page, size)

    async def scroll(
        self, which: RecordFilter, cursor: str | None, limit: int
    ) -> Slice[ChargingRecord]:
        """A cursor slice (newest first): ids only decrease along a walk, so records reported
        while an operator walks never repeat or shift a record it has yet to see."""
        check_size(limit, "limit")
        after = decode_cursor(cursor)
        rows = await self._store.after(await self._checked(which), after, limit + 1)
        return slice_of(rows, limit, lambda record: record.id)

    async def aggregate(
        self,
        operator_id: str,
        granularity: str,
        start: float,
        end: float,
        *,
        site_id: str | None = None,
        device_id: str | None = None,
    ) -> EnergyReport:
        """Energy per local hour, day or month of [start, end): see `aggregate.py`. The totals
        equal the sum of `page`/`scroll` over the same site, device and range."""
        grain = granularity_of(granularity)
        check_range(grain, start, end)
        which = await self._checked(
            RecordFilter(
                operator_id=operator_id,
                site_id=site_id,
                device_id=device_id,
                started_from=start,
                started_before=end,
            )
        )
        if site_id is not None:
            zones = [(await self._sites.get(operator_id, site_id)).timezone]
        elif device_id is not None:
            device = await self._devices.get(operator_id, device_id)
            site = device.site_id
            zones = [(await self._sites.get(operator_id, site)).timezone if site else "UTC"]
        else:
            zones = await self._store.zones(operator_id)
        return build_report(grain, zones, start, end, await self._store.energy_slots(which))

    async def _checked(self, which: RecordFilter) -> RecordFilter:
        """`which` with its device and site proven the operator's (404 otherwise) and its ranges
        in order (400 otherwise)."""
        operator_id = which.operator_id
        assert operator_id is not None
        if which.device_id is not None:
            device = await self._devices.get(operator_id, which.device_id)
            which = replace(which, device_id=device.id)
        if which.site_id is not None:
            which = replace(which, site_id=(await self._sites.get(operator_id, which.site_id)).id)
        low, high = which.started_from, which.started_before
        if low is not None and high is not None and high <= low:
            raise ValidationFailed("from must be before to")
        small, big = which.energy_min, which.energy_max
        if small is not None and big is not None and big < small:
            raise ValidationFailed("energy_min must not be above energy_max")
        return which

    # -- a user's own chargers (home chargers), for the ev.energy sessions view -------------
    def owner_version(self, user_id: str) -> tuple[int, int]:
        """What `owned` and `owned_one` answer from: the reports of the user's chargers and
        which chargers are the user's."""
        return self.versions.of(user_id), self._devices.owners.of(user_id)

    async def owned(
        self, user_id: str, *, before: str | None, after: str | None, limit: int
    ) -> tuple[list[ChargingRecord], bool]:
        """Records of the chargers `user_id` owns, newest first: those older than `after`, or
        the nearest newer than `before`; and whether more lie beyond them in that direction."""
        check_size(limit, "page_size")
        which = RecordFilter(owner_user_id=user_id)
        if before is not None:
            rows = await self._store.before(which, before, limit + 1)
            return rows[-limit:], len(rows) > limit
        rows = await self._store.after(which, after, limit + 1)
        return rows[:limit], len(rows) > limit

    async def owned_one(self, user_id: str, record_id: str) -> ChargingRecord:
        found = await self._store.one(RecordFilter(owner_user_id=user_id), record_id)
        if found is None:
            raise NotFound("no such charging session")
        return found


def _same_report(stored: ChargingRecord, wanted: ChargingRecord) -> bool:
    return (
        stored.connector == wanted.connector
        and _same_time(stored.started_at, wanted.started_at)
        and _same_time(stored.stopped_at, wanted.stopped_at)
        and stored.energy_kwh == wanted.energy_kwh
        and stored.meter_start == wanted.meter_start
        and stored.meter_stop == wanted.meter_stop
        and stored.meter_values == wanted.meter_values
    )


def _same_time(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < _SAME


def _check_compatible(stored: ChargingRecord, wanted: ChargingRecord) -> None:
    name = stored.transaction_id
    if stored.connector != wanted.connector or not _same_time(stored.started_at, wanted.started_at):
        raise Conflict(
            f"transaction {name!r} was reported on connector {stored.connector} starting at "
            f"{stored.started_at:.0f}; its connector and start cannot change"
        )
    if not stored.open:
        raise Conflict(f"transaction {name!r} is already stopped, with different values")
