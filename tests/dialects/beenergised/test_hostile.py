"""Hostile documents are refused before they cost anything, each with a clear error: deep
nesting, thousands of aliases, a megabyte of document, a batch of a thousand operations, a
fragment bomb; and a repeated one is refused from the document cache, not parsed again."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from graphql import build_schema

from tests.conftest import App
from tests.dialects.beenergised.support import gql
from voltgate.dialects.beenergised import documents
from voltgate.dialects.beenergised.documents import Documents, Limits, Refused
from voltgate.dialects.beenergised.schema import sdl

DEEP = "{ " + "me { " * 50 + "id" + " }" * 50 + " }"


def _errors(response_body: bytes) -> list[dict[str, object]]:
    errors: list[dict[str, object]] = orjson.loads(response_body)["errors"]
    return errors


async def test_a_document_nested_fifty_deep_is_refused(app: App) -> None:
    answer = await gql(app, DEEP)
    assert answer.status == 200 and answer.codes == ["BAD_USER_INPUT"]
    assert answer.body["errors"][0]["message"] == "the query is nested deeper than 12 levels"
    strict = await gql(app, DEEP, Accept="application/graphql-response+json")
    assert strict.status == 400 and strict.codes == ["BAD_USER_INPUT"]


async def test_ten_thousand_aliases_are_refused_by_the_parser_and_a_hundred_and_one_by_count(
    app: App,
) -> None:
    many = "{ " + " ".join(f"a{i}: __typename" for i in range(10_000)) + " }"
    response = await app.http.post("/graphql", json={"query": many})
    assert response.status_code == 413  # over the body cap (64 KiB) before it is parsed
    compact = "{ " + "a:__typename " * 10_000 + "}"  # 130 KB: still over the cap
    assert (await app.http.post("/graphql", content=compact.encode())).status_code == 413
    tokens = "{ " + "a:__typename " * 2_000 + "}"  # 6,000 tokens in 26 KB
    answer = await gql(app, tokens)
    assert answer.codes == ["GRAPHQL_PARSE_FAILED"]
    assert "more than 5000 tokens" in answer.body["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(101)) + " }"
    answer = await gql(app, aliases)
    assert answer.body["errors"][0]["message"] == "the document has more than 100 aliases"


async def test_a_megabyte_document_is_cut_off_while_it_is_read(app: App) -> None:
    body = b'{"query": "{ ' + b"__typename " * 100_000 + b'}"}'
    response = await app.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert _errors(response.content)[0]["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_a_batch_of_a_thousand_operations_is_refused(app: App) -> None:
    batch = [{"query": "{ __typename }"}] * 1_000
    response = await app.http.post("/graphql", json=batch)
    assert response.status_code == 400
    assert _errors(response.content)[0]["message"] == "a batch holds at most 10 operations"
    ok = await app.http.post("/graphql", json=[{"query": "{ __typename }"}] * 10)
    assert ok.status_code == 200
    assert ok.json() == [{"data": {"__typename": "Query"}}] * 10


async def test_a_fragment_bomb_is_refused_by_its_cost(app: App) -> None:
    # Each fragment spreads the one below twice: 2^20 fields once expanded.
    parts = ["fragment F0 on ContactProfile { id name }"]
    for n in range(1, 21):
        parts.append(f"fragment F{n} on ContactProfile {{ ...F{n - 1} ...F{n - 1} }}")
    bomb = "{ me { ...F20 } } " + " ".join(parts)
    answer = await gql(app, bomb)
    assert answer.codes == ["BAD_USER_INPUT"]
    assert "more than 25000 fields" in answer.body["errors"][0]["message"]


async def test_a_repeated_document_is_not_parsed_again(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real = documents.parse

    def counting(source: str, **options: Any) -> Any:
        parsed.append(source)
        return real(source, **options)

    monkeypatch.setattr(documents, "parse", counting)
    for query in ("{ __typename }", "{ __typename }", "{ __typename }", "{ a: __typename }"):
        assert "errors" not in (await gql(app, query)).body
    assert parsed == ["{ __typename }", "{ a: __typename }"]
    for _ in range(2):  # a refused one is kept refused, too
        assert (await gql(app, DEEP)).codes == ["BAD_USER_INPUT"]
    assert parsed[-1] == DEEP and len(parsed) == 3


def test_without_the_cache_every_document_is_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = documents.parse

    def counting(source: str, **options: Any) -> Any:
        parsed.append(source)
        return real(source, **options)

    monkeypatch.setattr(documents, "parse", counting)
    uncached = Documents(build_schema(sdl()), Limits(cached=0))
    for _ in range(3):
        uncached.prepare("{ __typename }", None)
    assert parsed == ["{ __typename }"] * 3


async def test_introspection_is_on_and_errors_never_carry_a_trace(app: App) -> None:
    answer = await gql(app, "{ __schema { queryType { name } } }")
    assert answer.data == {"__schema": {"queryType": {"name": "Query"}}}
    broken = await app.http.post(
        "/graphql", content=b'{"query": 5}', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert "Traceback" not in broken.text
    assert _errors(broken.content)[0]["extensions"] == {"code": "BAD_USER_INPUT"}


def test_a_page_is_costed_by_the_limit_it_asks_for_or_the_default() -> None:
    selection = "data { name evses { status connectors { id standard maxElectricPower } } }"
    ok = [
        "{ cpsPaged(filter: {radius: 5}) { " + selection + " } }",
        "{ cpsPaged(pagination: {limit: 100}) { " + selection + " } }",
        "query($p: PaginationInput) { cpsPaged(pagination: $p) { " + selection + " } }",
    ]
    documents = Documents(build_schema(sdl()), Limits())
    for query in ok:
        documents.prepare(query, None)  # within the cost: nothing raised
    # Four full pages at once are more than a document may ask for.
    heavy = " ".join(
        f"p{n}: cpsPaged(pagination: {{limit: 100}}) {{ {selection} }}" for n in range(4)
    )
    with pytest.raises(Refused, match="more than 25000 fields"):
        documents.prepare("{ " + heavy + " }", None)
