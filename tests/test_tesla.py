"""Tesla dialect: its token path and the partner-only partner_accounts endpoints."""

from __future__ import annotations

import pytest

from tests.conftest import App
from tests.fixtures.keyhost import key_host


async def _token(app: App, kind: str, scopes: str = "user_data") -> str:
    cid, secret = await app.client(kind=kind, scopes=scopes)
    response = await app.http.post(
        "/oauth2/v3/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def test_partner_registers_and_reads_its_domain(app: App) -> None:
    headers = {"Authorization": f"Bearer {await _token(app, 'partner')}"}
    with key_host() as host:
        pair = host.serve_key()
        created = await app.http.post(
            "/api/1/partner_accounts", json={"domain": host.domain}, headers=headers
        )
    assert created.status_code == 200, created.text
    body = created.json()["response"]
    assert body["domain"] == host.domain
    assert body["public_key_url"] == (
        f"http://{host.domain}/.well-known/appspecific/com.tesla.3p.public-key.pem"
    )
    assert body["public_key"] == pair.point.hex()
    read = await app.http.get("/api/1/partner_accounts", headers=headers)
    assert read.json()["response"]["domain"] == host.domain


async def test_other_token_kinds_get_403_naming_the_kind_needed(app: App) -> None:
    headers = {"Authorization": f"Bearer {await _token(app, 'operator')}"}
    response = await app.http.post(
        "/api/1/partner_accounts", json={"domain": "x.example.com"}, headers=headers
    )
    assert response.status_code == 403
    assert "partner" in response.json()["error_description"]
    assert response.json()["response"] is None


@pytest.mark.parametrize(
    "domain", ["https://x.example.com", "x.example.com/path", "x.example.com:443", "localhost", ""]
)
async def test_bad_domains_are_400(app: App, domain: str) -> None:
    headers = {"Authorization": f"Bearer {await _token(app, 'partner')}"}
    response = await app.http.post(
        "/api/1/partner_accounts", json={"domain": domain}, headers=headers
    )
    assert response.status_code == 400
    assert response.json()["response"] is None


async def test_unregistered_partner_read_is_404_and_no_token_is_401(app: App) -> None:
    headers = {"Authorization": f"Bearer {await _token(app, 'partner')}"}
    assert (await app.http.get("/api/1/partner_accounts", headers=headers)).status_code == 404
    assert (await app.http.get("/api/1/partner_accounts")).status_code == 401


async def test_the_openapi_document_describes_every_answer_in_teslas_error_body(
    app: App,
) -> None:
    spec = (await app.http.get("/openapi.json")).json()
    paths = spec["paths"]
    error = spec["components"]["schemas"]["TeslaError"]
    assert error["required"] == ["response", "error", "error_description", "code"]
    data = paths["/api/1/vehicles/{vehicle}/vehicle_data"]["get"]
    assert {"400", "401", "403", "404", "405", "408", "409", "429"} <= set(data["responses"])
    for status, answer in data["responses"].items():
        assert "RateLimit-Remaining" in answer["headers"], status
        if status != "200":
            schema = answer["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/TeslaError"}, status
    assert "Retry-After" in data["responses"]["429"]["headers"]
    assert [p["name"] for p in data["parameters"]] == ["vehicle", "endpoints"]
    history = paths["/api/1/dx/charging/history"]["get"]
    sizes = {p["name"]: p["schema"] for p in history["parameters"]}
    assert (sizes["pageSize"]["minimum"], sizes["pageSize"]["maximum"]) == (1, 100)
    assert sizes["pageNo"]["maximum"] == 100_000
    backup = paths["/api/1/energy_sites/{site_id}/backup"]["post"]
    assert {"400", "404", "413", "415", "429"} <= set(backup["responses"])
    for path in ("/api/1/products", "/api/1/partner_accounts", "/api/1/vehicles"):
        assert "200" in paths[path]["get"]["responses"], path
        assert "schema" in paths[path]["get"]["responses"]["200"]["content"]["application/json"]


async def test_a_method_the_path_does_not_have_is_405_in_teslas_body_with_allow(app: App) -> None:
    response = await app.http.delete("/api/1/vehicles")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["response"] is None and response.json()["code"] == 1001
