"""IBAN and BIC checks as a bank makes them before accepting a SEPA mandate."""

from __future__ import annotations

import pytest

from voltgate.contracts import bank
from voltgate.contracts.cards import card_number, check_character
from voltgate.errors import ValidationFailed

# Published example IBANs (their banks' documentation), with valid check digits.
VALID = {
    "DE89 3704 0044 0532 0130 00": "DE89370400440532013000",
    "gb82 west 1234 5698 7654 32": "GB82WEST12345698765432",
    "FR14 2004 1010 0505 0001 3M02 606": "FR1420041010050500013M02606",
    "NL91ABNA0417164300": "NL91ABNA0417164300",
    "NO93 8601 1117 947": "NO9386011117947",
    "MT84 MALT 0110 0001 2345 MTLC AST0 01S": "MT84MALT011000012345MTLCAST001S",
}


@pytest.mark.parametrize(("given", "electronic"), sorted(VALID.items()))
def test_a_valid_iban_is_accepted_in_its_electronic_form(given: str, electronic: str) -> None:
    assert bank.iban(given) == electronic


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("DE88 3704 0044 0532 0130 00", "iban: the check digits do not match (mistyped IBAN?)"),
        ("DE89 3704 0044 0532 0130 01", "iban: the check digits do not match (mistyped IBAN?)"),
        ("DE89 3704 0044 0532 0130 0", "iban: an IBAN of DE has 22 characters, not 21"),
        ("FR14 2004 1010 0505 0001 3M02 60", "iban: an IBAN of FR has 27 characters, not 26"),
        (
            "US12 3456 7890 1234 5678 90",
            "iban: 'US' is not a SEPA country; a SEPA direct debit needs an IBAN of one",
        ),
        (
            "DEXX 3704 0044 0532 0130 00",
            "iban: an IBAN is two letters, two check digits, then letters and digits only",
        ),
        (
            "DE89 3704 0044 0532 0130 0!",
            "iban: an IBAN is two letters, two check digits, then letters and digits only",
        ),
        ("   ", "iban: an IBAN is required"),
        ("D" * 65, "iban: an IBAN has at most 34 characters"),
    ],
)
def test_a_wrong_iban_is_refused_naming_the_field(given: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        bank.iban(given)
    assert refused.value.description == message


def test_one_swapped_pair_of_digits_is_caught() -> None:
    swapped = "DE89370400440532013000"[:10] + "30" + "DE89370400440532013000"[12:]
    assert swapped != "DE89370400440532013000"
    assert not bank.checksum_ok(swapped)


@pytest.mark.parametrize("given", ["COBADEFFXXX", "cobadeff", "DEUTDEDB110", "BNPAFRPP"])
def test_a_bic_of_8_or_11_characters_is_accepted(given: str) -> None:
    assert bank.bic(given) == given.upper()


@pytest.mark.parametrize("given", ["COBADEFFXX", "COBADEF", "C0BADEFF", "COBA1EFF", "COBADEFF-XX"])
def test_a_malformed_bic_is_refused_naming_the_field(given: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        bank.bic(given)
    assert refused.value.description == (
        "bic: a BIC has 8 or 11 characters: bank (4 letters), country (2 letters), "
        "location (2), optional branch (3)"
    )


def test_a_masked_iban_shows_its_country_and_last_four_only() -> None:
    assert bank.masked("DE89370400440532013000") == "DE** **** **** **** **30 00"
    assert bank.masked("NO9386011117947") == "NO** **** ***7 947"


def test_a_card_number_carries_a_check_character_that_catches_a_typo() -> None:
    number = card_number(12_345_678)
    assert number.startswith("DE-VGT-C12345678-") and len(number) == 18
    body = number.replace("-", "")
    assert check_character(body[:-1]) == body[-1]
    assert check_character("DEVGTC12345679") != body[-1]
