"""The rates a contract can be made with: a small built-in catalogue.

be.ENERGISED lists `contractRateOptions {uuid id name}` and a contract names its rate by
`rateId`; prices are not in its public documents, so these are a believable European eMSP's
(per kWh by current type, a monthly fee, a blocking fee per minute after a free period). Ids
and uuids never change: stored contracts name them.
"""

from __future__ import annotations

from dataclasses import dataclass

from voltgate.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class RateOption:
    uuid: str
    id: str
    name: str
    currency: str
    ac_per_kwh: float
    dc_per_kwh: float
    monthly_fee: float
    blocking_per_minute: float  # after `blocking_after` minutes at the connector
    blocking_after: int


RATES: tuple[RateOption, ...] = (
    RateOption(
        uuid="6f1c2a9e-3b7d-4c1a-9e55-0a4f7d2b8c01",
        id="standard",
        name="Standard AC/DC",
        currency="EUR",
        ac_per_kwh=0.49,
        dc_per_kwh=0.59,
        monthly_fee=0.0,
        blocking_per_minute=0.10,
        blocking_after=240,
    ),
    RateOption(
        uuid="0d8e4b57-91a2-4f6c-b3e8-5c7a1e9d2f02",
        id="flex",
        name="Flex",
        currency="EUR",
        ac_per_kwh=0.39,
        dc_per_kwh=0.49,
        monthly_fee=4.99,
        blocking_per_minute=0.10,
        blocking_after=240,
    ),
    RateOption(
        uuid="a3b9f0c4-7e21-4d8b-8a6f-2e5d9c1b7f03",
        id="fast",
        name="Fast DC",
        currency="EUR",
        ac_per_kwh=0.45,
        dc_per_kwh=0.39,
        monthly_fee=11.99,
        blocking_per_minute=0.10,
        blocking_after=45,
    ),
)
_BY_KEY = {key: rate for rate in RATES for key in (rate.id, rate.uuid)}


def rate_of(rate_id: str, field: str = "rateId") -> RateOption:
    """The rate named by its id or its uuid; ValidationFailed naming `field` otherwise."""
    found = _BY_KEY.get(rate_id.strip().lower())
    if found is None:
        known = ", ".join(rate.id for rate in RATES)
        raise ValidationFailed(f"{field}: no rate {rate_id[:64]!r} (the rates: {known})")
    return found
