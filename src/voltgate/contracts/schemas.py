"""What a user gives to make a contract, checked field by field (errors name the field in
be.ENERGISED's spelling, so an app can point at it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from voltgate.contracts import bank
from voltgate.errors import ValidationFailed

DEBIT_TYPES = ("CORE", "B2B")  # the SEPA direct debit schemes: consumers, businesses
_HOLDER_MAX = 70  # a SEPA message's name field
_BANK_MAX = 140
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class SepaDetails:
    """be.ENERGISED's `sepaContract` input, less `id` (the contract is the signed-in user's).

    voltgate has no parent contacts: `use_parent` is kept as given and the IBAN is required
    all the same. The BIC is optional (SEPA payments need only the IBAN) but checked if given.
    """

    rate_id: str
    iban: str
    account_holder: str
    bic: str | None = None
    bank: str | None = None
    debit_type: str = "CORE"
    use_parent: bool = False


@dataclass(frozen=True, slots=True)
class CheckedSepa:
    rate_id: str
    iban: str  # electronic form: capitals, no spaces
    account_holder: str
    bic: str | None
    bank: str | None
    debit_type: str
    use_parent: bool


def _text(value: str | None, field: str, most: int, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed(f"{field}: required")
        return None
    if len(text) > most or _CONTROL.search(text):
        raise ValidationFailed(f"{field}: at most {most} characters, no control characters")
    return text


def checked(details: SepaDetails, rate_id: str) -> CheckedSepa:
    """`details` checked, with the rate's canonical id; ValidationFailed naming the field."""
    holder = _text(details.account_holder, "accountHolder", _HOLDER_MAX, required=True)
    assert holder is not None
    debit = details.debit_type.strip().upper()
    if debit not in DEBIT_TYPES:
        raise ValidationFailed(f"debitType: one of {', '.join(DEBIT_TYPES)}")
    bic = None if not (details.bic or "").strip() else bank.bic(details.bic or "", "bic")
    return CheckedSepa(
        rate_id=rate_id,
        iban=bank.iban(details.iban, "iban"),
        account_holder=holder,
        bic=bic,
        bank=_text(details.bank, "bank", _BANK_MAX, required=False),
        debit_type=debit,
        use_parent=details.use_parent,
    )
