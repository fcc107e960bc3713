"""Every app's webhook endpoints in memory (the API and the delivery worker read them), kept
current across processes like every read model (`readmodel.Table`)."""

from __future__ import annotations

from voltgate.changes import Changes
from voltgate.readmodel import Index, Table
from voltgate.webhooks.repository import SqlWebhookStore
from voltgate.webhooks.store import Endpoint


def _id(endpoint: Endpoint) -> str:
    return endpoint.id


def _client(endpoint: Endpoint) -> str:
    return endpoint.client_id


class EndpointReadModel:
    def __init__(self, sql: SqlWebhookStore, changes: Changes) -> None:
        self._sql = sql
        self._table: Table[str, Endpoint] = Table(
            "webhook", changes, Index(_id, _client), sql.all_endpoints, sql.endpoint, str
        )

    async def load(self) -> None:
        await self._table.ready()

    async def add(self, endpoint: Endpoint) -> None:
        await self._sql.add(endpoint)
        await self._table.stored(endpoint)

    async def get(self, endpoint_id: str) -> Endpoint | None:
        return (await self._table.ready()).get(endpoint_id)

    def of_client(self, client_id: str) -> list[Endpoint]:
        return self._table.index.owned(client_id)

    async def rotate(
        self, endpoint_id: str, sealed: str, previous: str, until: float, at: float
    ) -> Endpoint | None:
        if not await self._sql.rotate(endpoint_id, sealed, previous, until, at):
            return None
        await self._table.stored(keys=(endpoint_id,))
        return self._table.index.get(endpoint_id)

    async def delete(self, client_id: str, endpoint_id: str) -> bool:
        deleted = await self._sql.delete(client_id, endpoint_id)
        if deleted:
            await self._table.stored(keys=(endpoint_id,))
        return deleted
