"""The GraphQL endpoint: prepared documents (`documents`), the caller (`caller`), then
graphql-core's executor with the resolvers bound to the schema.

A query of public data only (`keepable` fields: the charge points) keeps its encoded answer
while that data is unchanged (`http.kept`), for at most a second, under its document,
operation and variables: the same search by many contacts is made once (and once at a time).
Who may run it is still checked on every request.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Hashable
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLSchema, execute

from voltgate.clock import Clock
from voltgate.dialects.beenergised import transport
from voltgate.dialects.beenergised.caller import Callers, admit
from voltgate.dialects.beenergised.context import Context
from voltgate.dialects.beenergised.documents import Documents, Prepared, Refused
from voltgate.dialects.beenergised.failures import formatted, of, problem
from voltgate.errors import (
    InvalidClient,
    InvalidToken,
    MethodNotAllowed,
    VoltgateError,
    bearer_challenge,
)
from voltgate.http.kept import Kept
from voltgate.http.routing import Call, RawResponse
from voltgate.identity.profiles import BEENERGISED
from voltgate.identity.requests import OAuthRequest

Body = dict[str, Any]


class GraphQLEndpoint:
    def __init__(
        self,
        schema: GraphQLSchema,
        documents: Documents,
        callers: Callers,
        kept: Kept,
        clock: Clock,
        keepable: dict[str, Callable[[], Hashable]],
        max_batch: int,
        *,
        cache: bool = True,
    ) -> None:
        self._schema = schema
        self._documents = documents
        self._callers = callers
        self._kept = kept
        self._clock = clock
        self._keepable = keepable
        self._max_batch = max_batch
        self._cache = cache

    async def post(self, call: Call[None, None, bytes]) -> RawResponse:
        request = call.request
        asked = transport.from_body(call.body, request.header(b"content-type"), self._max_batch)
        return await self._answer(call, asked, allow_mutation=True)

    async def get(self, call: Call[None, None, None]) -> RawResponse:
        asked = transport.from_query(call.request.query_string)
        return await self._answer(call, asked, allow_mutation=False)

    async def _answer(
        self,
        call: Call[Any, Any, Any],
        asked: list[transport.Operation] | transport.Operation,
        *,
        allow_mutation: bool,
    ) -> RawResponse:
        request = call.request
        accept = request.header(b"accept")
        strict = transport.wants_graphql_response(accept)
        media = (b"content-type", transport.media_type(accept))
        oauth = OAuthRequest(
            params={},
            address=request.address,
            request_id=request.request_id,
            profile=BEENERGISED,
        )
        try:
            caller = await self._callers.identify(request.header(b"authorization"), oauth)
        except VoltgateError as exc:
            body, status, headers = _refused(exc, strict)
            return RawResponse(status, body, [media, *headers])
        context = Context(caller, oauth)
        if isinstance(asked, list):
            answers = [await self._one(op, context, strict, allow_mutation) for op in asked]
            body = b"[" + b",".join(a[0] for a in answers) + b"]"
            return RawResponse(200, body, [media])
        encoded, status, headers = await self._one(asked, context, strict, allow_mutation)
        return RawResponse(status, encoded, [media, *headers])

    async def _one(
        self, op: transport.Operation, context: Context, strict: bool, allow_mutation: bool
    ) -> tuple[bytes, int, list[tuple[bytes, bytes]]]:
        try:
            prepared = self._documents.prepare(op.query, op.operation_name)
        except Refused as refused:
            body = {"errors": [problem(m, refused.code) for m in refused.messages]}
            return orjson.dumps(body), 400 if strict else 200, []
        if prepared.mutation and not allow_mutation:
            raise MethodNotAllowed("mutations are sent with POST")
        refusal = admit(context.caller, prepared.roots)
        if refusal is not None:
            return _refused(refusal, strict)
        keep = None if prepared.mutation or not self._cache else self._keep_version(prepared.roots)
        if keep is None:
            body = await self._run(prepared, op, context)
            status = 400 if strict and "data" not in body else 200
            return orjson.dumps(body), status, []
        key = (
            "graphql",
            op.query,
            op.operation_name,
            orjson.dumps(op.variables, option=orjson.OPT_SORT_KEYS),
        )
        version = keep()  # read before running: a change meanwhile leaves the answer outdated
        now = self._clock.now()
        kept = self._kept
        found = kept.get(key, version, now, 1.0)
        if found is None:
            flight = kept.flight(key, version)
            if flight is not None:  # being made by another request: wait for that one
                found = await asyncio.shield(flight)
        if found is not None:
            return found[0], 200, []
        future = kept.take_off(key, version)
        made: tuple[bytes, list[tuple[bytes, bytes]]] | None = None
        try:
            result = await self._run(prepared, op, context)
            encoded = orjson.dumps(result)
            if "errors" not in result:
                made = encoded, []
                kept.put(key, version, now, encoded, [])
            return encoded, 400 if strict and "data" not in result else 200, []
        finally:
            kept.land(key, future, made)

    def _keep_version(self, roots: frozenset[str]) -> Callable[[], Hashable] | None:
        versions = []
        for name in roots:
            if name == "__typename":
                continue
            version = self._keepable.get(name)
            if version is None:
                return None
            versions.append(version)
        if not versions:
            return None
        if len(versions) == 1:
            return versions[0]
        return lambda: tuple(v() for v in versions)

    async def _run(self, prepared: Prepared, op: transport.Operation, context: Context) -> Body:
        result: Any = execute(
            self._schema,
            prepared.document,
            context_value=context,
            variable_values=op.variables,
            operation_name=op.operation_name,
        )
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        errors = result.errors or []
        if result.data is None and errors and all(e.path is None for e in errors):
            # Nothing ran (a variable missing or of the wrong type): a request error, no data.
            return {"errors": [formatted(e) for e in errors]}
        body: Body = {"data": result.data}
        if errors:
            body["errors"] = [formatted(e) for e in errors]
        return body


def _refused(exc: VoltgateError, strict: bool) -> tuple[bytes, int, list[tuple[bytes, bytes]]]:
    """A bearer that does not fit: 200 with the error (application/json), or its own status
    with a challenge (application/graphql-response+json)."""
    body = orjson.dumps({"errors": [of(exc)]})
    if not strict:
        return body, 200, []
    headers = [(k.lower().encode(), v.encode("latin-1")) for k, v in exc.headers.items()]
    if isinstance(exc, InvalidToken | InvalidClient):
        headers.append((b"www-authenticate", bearer_challenge(exc, "be.ENERGISED").encode()))
    return body, exc.status_code, headers
