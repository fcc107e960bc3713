from tests.conftest import App


async def test_token_and_me(app: App) -> None:
    cid, secret = await app.client()
    token = (await app.token(cid, secret))["access_token"]
    response = await app.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["client_id"] == cid
