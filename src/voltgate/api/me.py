"""`GET /v1/me`: who the bearer token belongs to. The first resource behind the guard."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from voltgate.http.adapter import bearer
from voltgate.identity.guard import Principal

router = APIRouter(tags=["identity"])


class Me(BaseModel):
    subject: str
    client_id: str
    kind: str
    scopes: list[str]
    environment: str | None
    issued_at: int
    expires_at: int


@router.get("/v1/me", response_model=Me, summary="The caller of this token")
async def me(principal: Principal = Depends(bearer())) -> Me:
    c = principal.claims
    return Me(
        subject=c.subject,
        client_id=c.client_id,
        kind=c.kind,
        scopes=sorted(c.scopes),
        environment=c.raw.get("env"),
        issued_at=int(c.issued_at),
        expires_at=int(c.expires_at),
    )
