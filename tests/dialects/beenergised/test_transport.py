"""GraphQL over HTTP: POST as JSON, as application/graphql or as the bare document be.ENERGISED's
guide sends; GET for queries only; batches; the statuses and media types the spec says."""

from __future__ import annotations

from tests.conftest import App
from tests.dialects.beenergised.support import psk


async def test_get_runs_a_query_and_refuses_a_mutation(app: App) -> None:
    ok = await app.http.get("/graphql", params={"query": "query Q { __typename }"})
    assert ok.status_code == 200 and ok.json() == {"data": {"__typename": "Query"}}
    assert ok.headers["content-type"] == "application/json"
    mutation = await app.http.get(
        "/graphql", params={"query": "mutation { refreshSession { sessionToken } }"}
    )
    assert mutation.status_code == 405
    assert mutation.json()["errors"][0]["message"] == "mutations are sent with POST"
    missing = await app.http.get("/graphql/")
    assert missing.status_code == 400 and "?query=" in missing.json()["errors"][0]["message"]


async def test_the_bare_document_the_guide_posts_works_as_json_or_as_graphql(app: App) -> None:
    key = await psk(app)
    document = (
        b'mutation{ registerContact(contactProfile: {name: "Ada", email: "ada@example.com", '
        b'password: "long enough"}) { profile { email } } }'
    )
    for content_type in ("application/json", "application/graphql"):
        answer = await app.http.post(
            "/graphql/",
            content=document.replace(b"ada@", f"ada-{content_type[12:]}@".encode()),
            headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["registerContact"]["profile"]["email"].startswith("ada-")


async def test_media_types_and_statuses(app: App) -> None:
    form = await app.http.post("/graphql", data={"query": "{ __typename }"})
    assert form.status_code == 415
    strict = await app.http.post(
        "/graphql",
        json={"query": "{ nope }"},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert strict.status_code == 400
    assert strict.headers["content-type"] == "application/graphql-response+json"
    assert strict.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    lenient = await app.http.post("/graphql", json={"query": "{ nope }"})
    assert lenient.status_code == 200 and "data" not in lenient.json()
    not_a_request = await app.http.post("/graphql", json={"variables": {}})
    assert not_a_request.status_code == 400
    batch = await app.http.post(
        "/graphql", json=[{"query": "{ __typename }"}, {"query": "{ nope }"}]
    )
    assert batch.status_code == 200
    first, second = batch.json()
    assert first == {"data": {"__typename": "Query"}}
    assert second["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_missing_or_mistyped_variable_is_the_clients_mistake(app: App) -> None:
    query = "query($n: String!) { __type(name: $n) { name } }"
    for variables in ({}, {"n": 20}):
        lenient = await app.http.post("/graphql", json={"query": query, "variables": variables})
        assert lenient.status_code == 200
        [error] = lenient.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert "$n" in error["message"] and "data" not in lenient.json()
        strict = await app.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Accept": "application/graphql-response+json"},
        )
        assert strict.status_code == 400
    wrong_method = await app.http.put("/graphql", json={"query": "{ __typename }"})
    assert wrong_method.status_code == 405
    assert wrong_method.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_wrong_psk_is_challenged_and_a_rate_limit_says_when_to_retry(app: App) -> None:
    key = await psk(app)
    strict = {"Accept": "application/graphql-response+json"}
    sign_in = (
        'mutation { initSession(username: "nobody@example.com", password: "wrong-wrong") '
        "{ sessionToken } }"
    )
    refused = await app.http.post(
        "/graphql",
        json={"query": sign_in},
        headers={**strict, "Authorization": f"Bearer {key[:-4]}AAAA"},
    )
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Bearer realm="be.ENERGISED"')
    assert refused.json()["errors"][0]["message"] == "the pre-shared key is not valid"
    codes = []
    for _ in range(11):  # ten failures per account in the window, then a limit
        answer = await app.http.post(
            "/graphql", json={"query": sign_in}, headers={"Authorization": f"Bearer {key}"}
        )
        codes.append(answer.json()["errors"][0]["extensions"])
    assert codes[0] == {"code": "UNAUTHENTICATED"}
    assert codes[-1]["code"] == "RATE_LIMITED" and codes[-1]["retryAfter"] > 0
