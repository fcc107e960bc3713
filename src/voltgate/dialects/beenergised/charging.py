"""A contact's contracts, payment methods, charging cards and remote charging sessions:
contractRateOptions, contractPaymentMethods, contracts, createSepaContract,
createPostpaidContract, availableCardsForChargingProcess, remoteStart, remoteStop and
chargelogsPaged.

`remoteStart` queues a real start command for the connector's charger (the command
pipeline); the charging record the charger reports for it is the session `chargelogsPaged`
lists, its energy live from telemetry while it charges.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from voltgate.contracts.schemas import SepaDetails
from voltgate.contracts.service import Contracts
from voltgate.contracts.sessions import ChargeLog, RemoteCharging
from voltgate.contracts.store import Card, Session
from voltgate.dialects.beenergised.context import Info
from voltgate.dialects.beenergised.paging import page, window

Fields = dict[str, Any]


def _when(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()


def _card(card: Card) -> Fields:
    return {
        "id": card.id,
        "tagId": card.tag_id,
        "number": card.number,
        "label": card.label,
        "expiryDate": card.expiry_date,
        "type": card.type,
    }


def _session(session: Session, log: ChargeLog | None = None) -> Fields:
    return {
        "transaction": session.id,
        "status": session.status.value,
        "reason": session.reason,
        "connectorId": session.connector_id,
        "chargePointId": session.charge_point_id,
        "startedAt": _when(None if log is None else log.started_at),
        "stoppedAt": _when(None if log is None else log.stopped_at),
        "energy": 0.0 if log is None else round(log.energy_kwh, 4),
        "card": session.tag_id,
    }


def _done(message: str) -> Fields:
    return {"status": "success", "code": None, "message": message}


class Charging:
    def __init__(self, contracts: Contracts, remote: RemoteCharging) -> None:
        self._contracts = contracts
        self._remote = remote

    async def rate_options(self, _root: None, _info: Info) -> list[Fields]:
        return [
            {"uuid": r.uuid, "id": r.id, "name": r.name} for r in self._contracts.rate_options()
        ]

    async def payment_methods(self, _root: None, info: Info) -> list[Fields]:
        methods = await self._contracts.payment_methods(info.context.user_id)
        return [
            {"uuid": m.id, "applicationId": m.application_id, "paymentType": m.payment_type.value}
            for m in methods
        ]

    async def contracts(self, _root: None, info: Info) -> list[Fields]:
        found = await self._contracts.contracts(info.context.user_id)
        methods = {
            m.id: m.payment_type.value
            for m in await self._contracts.payment_methods(info.context.user_id)
        }
        return [
            {
                "uuid": c.id,
                "rateId": c.rate_id,
                "status": c.status,
                "paymentType": methods.get(c.payment_method_id, "revoked"),
                "createdAt": _when(c.created_at),
            }
            for c in found
        ]

    async def create_sepa(self, _root: None, info: Info, sepaContract: Fields) -> Fields:
        given = sepaContract
        contract = await self._contracts.create_sepa(
            info.context.user_id,
            SepaDetails(
                rate_id=given["rateId"],
                iban=given["iban"],
                account_holder=given["accountHolder"],
                bic=given.get("bic"),
                bank=given.get("bank"),
                debit_type=given.get("debitType") or "CORE",
                use_parent=bool(given.get("useParent")),
            ),
            info.context.caller.client_id,
        )
        return _done(f"SEPA contract {contract.id} is active")

    async def create_postpaid(self, _root: None, info: Info, postpaidContract: Fields) -> Fields:
        contract = await self._contracts.create_postpaid(
            info.context.user_id, postpaidContract["rateId"], info.context.caller.client_id
        )
        return _done(f"postpaid contract {contract.id} is active")

    async def cards(self, _root: None, info: Info, connectorId: str) -> list[Fields]:
        found = await self._remote.available_cards(info.context.user_id, connectorId)
        return [_card(c) for c in found]

    async def remote_start(
        self, _root: None, info: Info, authorization: Fields, connector: str
    ) -> Fields:
        context = info.context
        session = await self._remote.remote_start(
            context.user_id, authorization["identifier"], connector, context.request.request_id
        )
        return {
            "status": session.status.value,
            "code": None,
            "message": "the charger has been asked to start",
            "transaction": session.id,
            "session": _session(session),
        }

    async def remote_stop(self, _root: None, info: Info, transaction: str) -> Fields:
        context = info.context
        answer = await self._remote.remote_stop(
            context.user_id, transaction, context.request.request_id
        )
        return {"status": answer.status, "code": str(answer.code), "message": answer.message}

    async def chargelogs(self, _root: None, info: Info, pagination: Fields | None = None) -> Fields:
        limit, offset = window(pagination)
        total, logs = await self._remote.chargelogs(info.context.user_id, limit, offset)
        return page(total, limit, offset, [_session(log.session, log) for log in logs])

    def resolvers(self) -> dict[str, dict[str, Any]]:
        return {
            "Query": {
                "contractRateOptions": self.rate_options,
                "contractPaymentMethods": self.payment_methods,
                "contracts": self.contracts,
                "availableCardsForChargingProcess": self.cards,
                "chargelogsPaged": self.chargelogs,
            },
            "Mutation": {
                "createSepaContract": self.create_sepa,
                "createPostpaidContract": self.create_postpaid,
                "remoteStart": self.remote_start,
                "remoteStop": self.remote_stop,
            },
        }
