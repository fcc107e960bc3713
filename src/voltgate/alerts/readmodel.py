"""Every app's alert rules in memory (the evaluator consults them for each batch of signals),
kept current across processes like every read model (`readmodel.Table`)."""

from __future__ import annotations

from voltgate.alerts.repository import SqlAlertStore
from voltgate.alerts.rules import Rule
from voltgate.changes import Changes
from voltgate.readmodel import Index, Table


def _id(rule: Rule) -> str:
    return rule.id


def _client(rule: Rule) -> str:
    return rule.client_id


class RuleReadModel:
    def __init__(self, sql: SqlAlertStore, changes: Changes) -> None:
        self._sql = sql
        self._table: Table[str, Rule] = Table(
            "alert_rule", changes, Index(_id, _client), sql.all_rules, sql.rule, str
        )

    async def load(self) -> None:
        await self._table.ready()

    async def all_rules(self) -> list[Rule]:
        return (await self._table.ready()).rows()

    async def rule(self, rule_id: str) -> Rule | None:
        return (await self._table.ready()).get(rule_id)

    async def add_rule(self, rule: Rule) -> None:
        await self._sql.add_rule(rule)
        await self._table.stored(rule)

    async def delete_rule(self, client_id: str, rule_id: str) -> bool:
        deleted = await self._sql.delete_rule(client_id, rule_id)
        if deleted:
            await self._table.stored(keys=(rule_id,))
        return deleted

    def of_client(self, client_id: str) -> list[Rule]:
        return self._table.index.owned(client_id)

    def everything(self) -> tuple[int, list[Rule]]:
        index = self._table.index
        return index.versions.last, index.rows()
