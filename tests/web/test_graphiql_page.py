"""`/graphiql` in headless Chromium against a live server, with no network but that server's:
every request the page makes is recorded (one to anywhere else is refused and fails the test),
and so is anything its CSP blocked and any script error. GraphiQL draws its editors, and a query
typed there, run with a contact's session token typed in its headers editor, is POSTed to
`/graphql` as JSON and its answer shown. A screenshot is kept in the test's temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.live import LiveServer, live_server

QUERY = (
    "query Nearby($limit: Int) {\n"
    "  me { email }\n"
    "  cpsPaged(filter: {position: {latitude: 48.1374, longitude: 11.5755}},\n"
    "           pagination: {limit: $limit, offset: 0}) { pagination { totalCount limit } }\n"
    "}\n"
)
VARIABLES = '{"limit": 3}'
EMAIL = "graphiql@example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The embedded default, with a be.ENERGISED app and a contact to sign in as."""
    folder = tmp_path_factory.mktemp("graphiql")
    with live_server(folder / "data", folder / "server.log") as live:
        yield live


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    """A contact's session token, as an app gets one: its PSK registers and signs them in."""
    psk = server.create_client(kind="beenergised_app", scopes="contact")["client_secret"]
    steps = [
        (
            "mutation($p: ContactProfileInput!) { registerContact(contactProfile: $p) "
            "{ profile { id } } }",
            {"p": {"name": "Grace", "email": EMAIL, "password": "graphiql password"}},
        ),
        (
            "mutation($u: String!, $p: String!) { initSession(username: $u, password: $p) "
            "{ sessionToken } }",
            {"u": EMAIL, "p": "graphiql password"},
        ),
    ]
    answers = [
        httpx.post(
            server.base_url + "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {psk}"},
        ).json()
        for query, variables in steps
    ]
    session: str = answers[1]["data"]["initSession"]["sessionToken"]
    return session


@dataclass
class Recorder:
    """Every request of one browser context, and what the page's console and errors said."""

    origin: str
    requests: list[tuple[str, str]] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def route(self, route: Any) -> None:
        request = route.request
        self.requests.append((request.method, request.url))
        if request.url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.outside.append(request.url)
            route.abort("internetdisconnected")

    def console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.blocked.append(message.text)


def _type(page: Any, editor: Any, text: str) -> None:
    """Replace an editor's text as a user would: click into it, select all, type over it."""
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)  # as typed, without the editor closing brackets twice


def test_graphiql_runs_a_typed_query_with_the_typed_bearer_and_nothing_leaves(
    server: LiveServer, token: str, chromium: Any, tmp_path: Path
) -> None:
    headers_text = f'{{"Authorization": "Bearer {token}"}}'
    recorder = Recorder(server.base_url)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", recorder.route)
    page = context.new_page()
    page.on("console", recorder.console)
    page.on("pageerror", lambda error: recorder.errors.append(str(error)))
    try:
        response = page.goto(server.base_url + "/graphiql")
        assert response is not None and response.status == 200
        query_editor = page.locator(".graphiql-query-editor .CodeMirror")
        query_editor.wait_for()
        # A first visit explains the bearer and offers the seed's initSession.
        assert "initSession" in query_editor.inner_text()
        assert page.locator(".graphiql-editor-tools button.active").inner_text() == "Headers"
        page.wait_for_load_state("networkidle")

        _type(page, query_editor, QUERY)
        page.locator(".graphiql-editor-tools button", has_text="Variables").click()
        _type(page, page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)"), VARIABLES)
        page.locator(".graphiql-editor-tools button", has_text="Headers").click()
        _type(
            page, page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)"), headers_text
        )

        def is_ours(request: Any) -> bool:
            return request.method == "POST" and "cpsPaged" in (request.post_data or "")

        with page.expect_request(is_ours) as sent:
            page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
        request = sent.value
        # The contact's own answer, shown: their email and the (empty) page of charge points.
        page.locator(".graphiql-response", has_text=EMAIL).wait_for()
        assert '"totalCount": 0' in page.locator(".graphiql-response").inner_text()
        # A dialog styles itself at run time: the CSP lets it.
        page.get_by_role("button", name="Open settings dialog").click()
        page.get_by_role("dialog").get_by_text("Clear storage").wait_for()
        page.keyboard.press("Escape")
        page.wait_for_load_state("networkidle")
        stored = page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")
        page.screenshot(path=str(tmp_path / "graphiql.png"))
    finally:
        context.close()

    assert request.url == server.base_url + "/graphql"
    assert request.post_data_json == {
        "query": QUERY,
        "variables": {"limit": 3},
        "operationName": "Nearby",
    }
    headers = request.headers
    assert headers["authorization"] == f"Bearer {token}"
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/graphql-response+json, application/json"
    assert "cookie" not in headers
    # GraphiQL's history keeps the query, never the bearer.
    assert "cpsPaged" in stored and token not in stored

    assert recorder.outside == [], f"requests left the machine: {recorder.outside}"
    assert recorder.blocked == [], f"the CSP blocked: {recorder.blocked}"
    assert recorder.errors == [], f"the page's scripts failed: {recorder.errors}"
    paths = [(method, url.removeprefix(server.base_url)) for method, url in recorder.requests]
    assert paths[0] == ("GET", "/graphiql")
    assets = sorted(path.split("?")[0] for method, path in paths if path.startswith("/graphiql/"))
    assert assets == [
        "/graphiql/assets/graphiql-init.js",
        "/graphiql/assets/graphiql-page.css",
        "/graphiql/assets/graphiql.min.css",
        "/graphiql/assets/graphiql.min.js",
        "/graphiql/assets/react-dom.production.min.js",
        "/graphiql/assets/react.production.min.js",
    ]
    # Besides the page and its assets: only GraphQL operations (the schema's, then ours).
    others = {entry for entry in paths if not entry[1].startswith("/graphiql")}
    assert others == {("POST", "/graphql")}
    assert (tmp_path / "graphiql.png").stat().st_size > 10_000
