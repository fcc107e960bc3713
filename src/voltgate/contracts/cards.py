"""Charging cards as an eMSP issues them: an RFID chip's UID (what a charger reads) and a
printed contract number in the shape of an eMAID (ISO 15118 / DIN SPEC 91286: country,
provider, instance, check character), valid for three years.

The check character is ISO 7064's hybrid MOD 37,36 over the number's letters and digits, not
DIN SPEC 91286's own algorithm: it catches a mistyped character all the same.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from voltgate.contracts.store import Card, new_uuid

COUNTRY = "DE"
PROVIDER = "VGT"
VALID_YEARS = 3
LABEL = "voltgate charging card"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_UID_BYTES = 7  # an NFC Type 2 tag's UID (NTAG, MIFARE Ultralight)


def check_character(text: str) -> str:
    """ISO 7064 hybrid MOD 37,36: the character that makes the whole string check to 1."""
    modulus = len(_ALPHABET)
    product = modulus
    for char in text.upper():
        total = (product + _ALPHABET.index(char)) % modulus or modulus
        product = total * 2 % (modulus + 1)
    return _ALPHABET[(modulus + 1 - product) % modulus]


def card_number(instance: int) -> str:
    """`DE-VGT-C12345678-X`: country, provider, `C` and eight digits, check character."""
    body = f"{COUNTRY}{PROVIDER}C{instance:08d}"
    return f"{COUNTRY}-{PROVIDER}-C{instance:08d}-{check_character(body)}"


def expiry(issued_at: float) -> float:
    """The end (UTC) of the day three years after issue; 29 February expires on the 28th."""
    day = datetime.fromtimestamp(issued_at, UTC).date()
    try:
        last = day.replace(year=day.year + VALID_YEARS)
    except ValueError:
        last = day.replace(year=day.year + VALID_YEARS, day=28)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return end.timestamp()


def issue(user_id: str, seq: int, now: float) -> Card:
    """A new RFID card for the user, with a random UID and number (unique in storage)."""
    return Card(
        id=new_uuid(),
        user_id=user_id,
        seq=seq,
        tag_id=secrets.token_hex(_UID_BYTES).upper(),
        number=card_number(secrets.randbelow(10**8)),
        label=LABEL,
        type="RFID",
        status="active",
        expires_at=expiry(now),
        created_at=now,
    )
