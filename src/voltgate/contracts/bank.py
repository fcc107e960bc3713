"""Bank details of a SEPA direct debit: the IBAN (ISO 13616) and the BIC (ISO 9362).

An IBAN is checked as a bank would before accepting a mandate: a SEPA country's code, that
country's length, letters and digits only, and the ISO 7064 MOD 97-10 checksum. Errors name
the field, so an app can point at it. The IBAN is personal data: callers store it sealed and
show only `masked`.
"""

from __future__ import annotations

import re

from voltgate.errors import ValidationFailed

# The IBAN length of each SEPA country (EU, EEA, and CH, GB, GI, AD, MC, SM, VA), ISO 13616's
# registry; overseas territories and Crown dependencies use their parent's IBAN.
LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27,
    "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
}  # fmt: skip
_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]+$")
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_SPACES = re.compile(r"[\s\-]+")  # people copy IBANs grouped by spaces (or dashes)
_MAX_INPUT = 64


def checksum_ok(iban: str) -> bool:
    """ISO 7064 MOD 97-10: the first four characters moved to the end, letters as 10..35,
    leave 1."""
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def iban(value: str, field: str = "iban") -> str:
    """`value` as an IBAN in its electronic form (capitals, no spaces); ValidationFailed naming
    `field` otherwise."""
    if len(value) > _MAX_INPUT:
        raise ValidationFailed(f"{field}: an IBAN has at most 34 characters")
    text = _SPACES.sub("", value).upper()
    if not text:
        raise ValidationFailed(f"{field}: an IBAN is required")
    country = text[:2]
    if country not in LENGTHS:
        raise ValidationFailed(
            f"{field}: {country!r} is not a SEPA country; a SEPA direct debit needs an IBAN of one"
        )
    if not _SHAPE.match(text):
        raise ValidationFailed(
            f"{field}: an IBAN is two letters, two check digits, then letters and digits only"
        )
    if len(text) != LENGTHS[country]:
        raise ValidationFailed(
            f"{field}: an IBAN of {country} has {LENGTHS[country]} characters, not {len(text)}"
        )
    if not checksum_ok(text):
        raise ValidationFailed(f"{field}: the check digits do not match (mistyped IBAN?)")
    return text


def bic(value: str, field: str = "bic") -> str:
    """`value` as a BIC: 4 letters (bank), 2 letters (country), 2 letters or digits (location),
    optionally 3 more (branch); ValidationFailed naming `field` otherwise."""
    text = value.strip().upper()
    if len(text) not in (8, 11) or not _BIC.match(text):
        raise ValidationFailed(
            f"{field}: a BIC has 8 or 11 characters: bank (4 letters), country (2 letters), "
            "location (2), optional branch (3)"
        )
    return text


def masked(checked: str) -> str:
    """A checked IBAN as it may be shown: its country and last four characters, grouped by
    four (`DE** **** **** **** **30 00`)."""
    hidden = checked[:2] + "*" * (len(checked) - 6) + checked[-4:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))
