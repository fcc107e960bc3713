"""Whose signals an app's rules may see: a vehicle whose owner consented to the app with
`vehicle_device_data`, or a charger its operator (the app) runs. Asked per subject and batch,
answered from the read models (consents, vehicles, chargers), so a withdrawn consent stops the
app's alerts from the next batch on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from voltgate.alerts.signals import CHARGERS, device_of

OwnerOf = Callable[[str], Awaitable[str | None]]  # VIN -> its owner's user id
Consented = Callable[[str, str], Awaitable[bool]]  # (user id, client id) -> device data granted
OperatorOf = Callable[[str], Awaitable[str | None]]  # device id -> its operator's client id


class Audience:
    def __init__(self, owner_of: OwnerOf, consented: Consented, operator_of: OperatorOf) -> None:
        self._owner_of = owner_of
        self._consented = consented
        self._operator_of = operator_of

    async def sees(self, client_id: str, subject: str, target: str) -> bool:
        if target == CHARGERS:
            return await self._operator_of(device_of(subject)) == client_id
        owner = await self._owner_of(subject)
        return owner is not None and await self._consented(owner, client_id)
