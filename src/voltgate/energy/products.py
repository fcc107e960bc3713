"""`GET /api/1/products`: everything a user owns, as Tesla lists it.

The one place the list is assembled: vehicles (the vehicles package) join the energy sites here.
"""

from __future__ import annotations

from typing import Any

from voltgate.energy.schemas import product
from voltgate.runtime import Runtime


async def products(
    rt: Runtime, user_id: str, scopes: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """The user's products: energy sites now; vehicles join here (listed first, as Tesla).

    With `scopes` (the token's), a kind of product is listed only when the token may read its
    data: energy sites with `energy_device_data`.
    """
    found: list[dict[str, Any]] = []
    if scopes is None or "energy_device_data" in scopes:
        sites = await rt.energy.of_user(user_id)
        found += [product(site, rt.energy.live_status(site)) for site in sites]
    return found
