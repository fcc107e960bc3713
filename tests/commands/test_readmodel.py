"""The commands read model: a command is read current wherever it is held, memory holds only
queued commands and those changed in the last ten minutes, and a command it no longer holds is
still read (from the database)."""

from __future__ import annotations

from tests.commands.support import fleet, heartbeat, queued, report, show
from tests.conftest import App
from tests.fixtures.instances import seen_within
from voltgate.cache.memory import InProcessCoordinator
from voltgate.changes import Changes
from voltgate.commands.readmodel import KEEP, CommandReadModel
from voltgate.commands.repository import SqlCommandStore
from voltgate.commands.store import Status


class _Counter:
    async def bump(self) -> int:
        return 0


def _model(app: App) -> tuple[CommandReadModel, Changes]:
    """A model of its own over the app's database, on a bus of its own (it hears only what a
    test hands its `Changes`)."""
    changes = Changes(InProcessCoordinator(app.clock), _Counter(), origin="test")
    changes.serving = True
    return CommandReadModel(SqlCommandStore(app.rt.db), changes, app.clock), changes


async def test_memory_holds_queued_commands_and_recent_changes_and_reads_the_rest(
    app: App,
) -> None:
    fl = await fleet(app)
    model, _ = _model(app)
    done, waiting = await queued(app, fl), await queued(app, fl, "stop")
    await model.reload()
    assert len(model) == 2  # both queued
    assert [c.id for c in await model.deliver(fl.charger.device_id, app.clock.now(), 1)] == [done]
    now = app.clock.now()
    assert await model.advance(fl.charger.device_id, done, Status.ACCEPTED, None, now)
    assert await model.advance(fl.charger.device_id, done, Status.COMPLETED, "ok", now)

    app.clock.advance(KEEP + 61)
    # Another write (here: the other command expiring) forgets what changed before KEEP.
    assert await model.expire(app.clock.now(), operator_id=fl.op.client_id) == 1
    assert len(model) == 1
    found = await model.get(done)  # from the database
    assert found is not None and (found.status, found.reason) == (Status.COMPLETED, "ok")
    expired = await model.get(waiting)
    assert expired is not None and expired.status is Status.EXPIRED


async def test_a_held_command_changed_elsewhere_is_read_again_when_heard_of(app: App) -> None:
    fl = await fleet(app)
    model, changes = _model(app)
    command_id = await queued(app, fl)
    held = await model.get(command_id)
    assert held is not None and held.status is Status.QUEUED
    await heartbeat(app, fl)  # through the app's own model: this one is not told
    assert (await report(app, fl, command_id, "accepted")).status_code == 200
    assert (await show(app, fl, command_id))["status"] == "accepted"
    changes.receive(f"rm:writer:command:{command_id}")  # the writer's broadcast
    now_held, _ = await seen_within(
        lambda: model.get(command_id), lambda c: c is not None and c.status is Status.ACCEPTED, 1
    )
    assert now_held is not None and now_held.status is Status.ACCEPTED
    await changes.stop()
