"""Contracts, payment methods and charging cards of one user, on both backends."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import sqlalchemy as sa

from tests.conftest import App
from tests.contracts.support import SEPA, user, world
from voltgate.contracts.store import ContractKind, PaymentType
from voltgate.db.schema import contracts as contracts_table
from voltgate.errors import NotFound, ValidationFailed


async def test_the_rate_options_are_a_fixed_catalogue(app: App) -> None:
    w = await world(app)
    rates = w.contracts.rate_options()
    assert [(r.id, r.name) for r in rates] == [
        ("standard", "Standard AC/DC"),
        ("flex", "Flex"),
        ("fast", "Fast DC"),
    ]
    assert rates[0].uuid == "6f1c2a9e-3b7d-4c1a-9e55-0a4f7d2b8c01"


async def test_a_sepa_contract_brings_a_sepa_payment_method_and_the_first_card(app: App) -> None:
    w = await world(app)
    driver = await user(app)
    contract = await w.contracts.create_sepa(driver.id, SEPA, application_id="vgc_app")
    assert contract.kind is ContractKind.SEPA and contract.status == "active"
    assert contract.rate_id == "standard" and contract.bic == "COBADEFFXXX"
    assert contract.iban_masked == "DE** **** **** **** **30 00"
    assert await w.contracts.contracts(driver.id) == [contract]

    [method] = await w.contracts.payment_methods(driver.id)
    assert method.id == contract.payment_method_id and method.contract_id == contract.id
    assert method.payment_type is PaymentType.SEPA and method.application_id == "vgc_app"

    [card] = await w.contracts.cards(driver.id)
    assert card.type == "RFID" and card.status == "active" and card.seq == 1
    assert len(card.tag_id) == 14 and int(card.tag_id, 16) >= 0
    assert card.number.startswith("DE-VGT-C")
    assert card.usable_at(app.clock.now())
    assert card.expiry_date > "2000-01-01"


async def test_the_iban_is_stored_sealed_and_opens_only_for_its_contract(app: App) -> None:
    w = await world(app)
    driver = await user(app)
    contract = await w.contracts.create_sepa(driver.id, SEPA)
    query = sa.select(contracts_table.c.iban_sealed, contracts_table.c.iban_masked)
    sealed, masked = (await app.rt.db.read(lambda conn: conn.execute(query).one()))[:2]
    assert "370400440532013000" not in sealed and "DE89" not in sealed
    assert "0532" not in masked
    opened = app.rt.crypto.envelope.open(sealed, f"contract-iban:{contract.id}")
    assert opened == b"DE89370400440532013000"


async def test_a_postpaid_contract_pays_by_invoice_and_a_second_contract_issues_no_card(
    app: App,
) -> None:
    w = await world(app)
    driver = await user(app)
    first = await w.contracts.create_sepa(driver.id, SEPA)
    second = await w.contracts.create_postpaid(driver.id, "flex")
    assert second.kind is ContractKind.POSTPAID and second.rate_id == "flex"
    assert second.iban_masked is None
    assert [c.id for c in await w.contracts.contracts(driver.id)] == [first.id, second.id]
    methods = await w.contracts.payment_methods(driver.id)
    assert [m.payment_type for m in methods] == [PaymentType.SEPA, PaymentType.INVOICE]
    assert len(await w.contracts.cards(driver.id)) == 1


async def test_a_rate_is_named_by_its_id_or_its_uuid(app: App) -> None:
    w = await world(app)
    driver = await user(app)
    contract = await w.contracts.create_postpaid(driver.id, "0d8e4b57-91a2-4f6c-b3e8-5c7a1e9d2f02")
    assert contract.rate_id == "flex"
    with pytest.raises(ValidationFailed) as refused:
        await w.contracts.create_postpaid(driver.id, "gold")
    assert refused.value.description == "rateId: no rate 'gold' (the rates: standard, flex, fast)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"iban": "DE88 3704 0044 0532 0130 00"}, "iban: the check digits do not match"),
        ({"bic": "COBADEF"}, "bic: a BIC has 8 or 11 characters"),
        ({"account_holder": " "}, "accountHolder: required"),
        ({"debit_type": "instant"}, "debitType: one of CORE, B2B"),
        ({"bank": "x" * 141}, "bank: at most 140 characters"),
    ],
)
async def test_a_wrong_field_is_refused_by_name_and_nothing_is_stored(
    app: App, change: dict[str, str], message: str
) -> None:
    w = await world(app)
    driver = await user(app)
    with pytest.raises(ValidationFailed) as refused:
        await w.contracts.create_sepa(driver.id, replace(SEPA, **change))  # type: ignore[arg-type]
    assert refused.value.description.startswith(message)
    assert await w.contracts.contracts(driver.id) == []
    assert await w.contracts.cards(driver.id) == []


async def test_a_bic_is_optional_and_b2b_debits_are_kept(app: App) -> None:
    w = await world(app)
    driver = await user(app)
    contract = await w.contracts.create_sepa(
        driver.id, replace(SEPA, bic=None, debit_type="b2b", bank="Commerzbank")
    )
    assert (contract.bic, contract.debit_type, contract.bank) == (None, "B2B", "Commerzbank")


async def test_a_revoked_payment_method_is_gone_from_the_list(app: App) -> None:
    w = await world(app)
    driver = await user(app)
    contract = await w.contracts.create_sepa(driver.id, SEPA)
    revoked = await w.contracts.revoke_payment_method(driver.id, contract.payment_method_id)
    assert revoked.revoked_at == app.clock.now()
    assert await w.contracts.payment_methods(driver.id) == []
    with pytest.raises(NotFound):
        await w.contracts.revoke_payment_method(driver.id, contract.payment_method_id)


async def test_a_user_sees_and_touches_none_of_another_users_rows(app: App) -> None:
    w = await world(app)
    alice, bob = await user(app), await user(app)
    contract = await w.contracts.create_sepa(alice.id, SEPA)
    assert await w.contracts.contracts(bob.id) == []
    assert await w.contracts.payment_methods(bob.id) == []
    assert await w.contracts.cards(bob.id) == []
    with pytest.raises(NotFound):
        await w.contracts.revoke_payment_method(bob.id, contract.payment_method_id)
    assert len(await w.contracts.payment_methods(alice.id)) == 1


async def test_first_contracts_made_together_issue_one_card(app: App) -> None:
    w = await world(app)
    driver = await user(app)
    made = await asyncio.gather(*(w.contracts.create_sepa(driver.id, SEPA) for _ in range(3)))
    assert len({c.id for c in made}) == 3
    assert [card.seq for card in await w.contracts.cards(driver.id)] == [1]
