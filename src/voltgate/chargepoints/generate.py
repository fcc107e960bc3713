"""Believable public charge points over Europe, as many as asked, the same for the same seed.

Points gather around the cities of `cities.py` in proportion to their population, densest at
the centre and thinning outwards (a city's spread grows with its size); a share lies further
out along the roads between. Each has an operator of its country, a street address in the
local form, and one of the EVSE mixes seen on the ground (AC street posts, DC triple chargers,
high-power hubs, ...), with statuses mostly available or charging. Rows come out in the bulk
loader's column order (`rows.INSERT_COLUMNS`), a million in a few seconds."""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

import orjson

from voltgate.chargepoints import sphere
from voltgate.chargepoints.cities import CITIES, City
from voltgate.chargepoints.store import masks_of_ports, status_bit
from voltgate.ids import ulid_at

# (standard, format, power type, W) per connector; an EVSE is a list of them.
_T2_11 = ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 11_000)
_T2_22 = ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 22_000)
_T2_CABLE_43 = ("IEC_62196_T2", "CABLE", "AC_3_PHASE", 43_000)
_CCS_50 = ("IEC_62196_T2_COMBO", "CABLE", "DC", 50_000)
_CHADEMO_50 = ("CHADEMO", "CABLE", "DC", 50_000)
_CCS_150 = ("IEC_62196_T2_COMBO", "CABLE", "DC", 150_000)
_CCS_300 = ("IEC_62196_T2_COMBO", "CABLE", "DC", 300_000)
_CCS_350 = ("IEC_62196_T2_COMBO", "CABLE", "DC", 350_000)
_CCS_250 = ("IEC_62196_T2_COMBO", "CABLE", "DC", 250_000)
_SCHUKO = ("DOMESTIC_F", "SOCKET", "AC_1_PHASE", 3_700)
_T2_7 = ("IEC_62196_T2", "SOCKET", "AC_1_PHASE", 7_400)

# (weight, the EVSEs' connectors, how many EVSEs: low, high)
_MIXES: tuple[tuple[int, tuple[tuple[Any, ...], ...], int, int], ...] = (
    (40, (_T2_22,), 2, 2),  # a street post, two sockets
    (16, (_T2_11,), 1, 2),  # a wallbox at a car park or a shop
    (12, (_CCS_50, _CHADEMO_50), 1, 1),  # a DC triple charger's DC side ...
    (6, (_T2_CABLE_43,), 1, 1),  # ... and alone its AC side, where it stands apart
    (9, (_CCS_150,), 2, 4),  # a fast-charging stop
    (6, (_CCS_300,), 4, 8),  # a high-power hub on a main road
    (3, (_CCS_350,), 4, 6),
    (4, (_CCS_250,), 4, 12),  # a brand's own supercharging site
    (3, (_SCHUKO, _T2_7), 1, 2),  # a slow point at a hotel or a campsite
)
_MIX_AT = list(accumulate(w for w, *_ in _MIXES))
_STATUSES = (
    ("AVAILABLE", 62),
    ("CHARGING", 25),
    ("UNKNOWN", 4),
    ("OUTOFORDER", 3),
    ("INOPERATIVE", 2),
    ("BLOCKED", 2),
    ("RESERVED", 1),
    ("PLANNED", 1),
)
_STATUS_AT = list(accumulate(w for _, w in _STATUSES))
_STATUS_NAMES = tuple(name for name, _ in _STATUSES)
_STATUS_BITS = {name: status_bit(name) or 0 for name in _STATUS_NAMES}
# Per mix: its standards' bits, its most powerful W, its connectors as the JSON shows them.
_MIX_PORTS = tuple(
    (*masks_of_ports(ports), [[i, *port] for i, port in enumerate(ports, 1)])
    for _, ports, _, _ in _MIXES
)
_OPERATORS_EVERYWHERE = ("Ionity", "Allego", "Shell Recharge", "TotalEnergies", "Tesla", "Electra")
_OPERATORS = {
    "DE": ("EnBW", "E.ON Drive", "EWE Go", "Stadtwerke", "Aral pulse", "Mer"),
    "FR": ("Izivia", "Freshmile", "Power Dot", "Electra", "Lidl"),
    "GB": ("Pod Point", "BP Pulse", "Osprey", "InstaVolt", "Gridserve"),
    "ES": ("Iberdrola", "Endesa X", "Zunder", "Repsol"),
    "IT": ("Enel X Way", "Be Charge", "Atlante", "Free To X"),
    "NL": ("Fastned", "Vattenfall InCharge", "Equans", "EVBox"),
    "BE": ("Fastned", "Allego", "Blue Corner", "Engie"),
    "PL": ("Greenway", "Orlen Charge", "GreenWay", "PGE Nowa Energia"),
    "SE": ("Mer", "Recharge", "Vattenfall InCharge", "Circle K"),
    "NO": ("Mer", "Recharge", "Circle K", "Eviny"),
    "DK": ("Clever", "E.ON Drive", "Circle K"),
    "AT": ("Wien Energie", "Smatrics", "EnBW"),
    "CH": ("Swisscharge", "GOFAST", "Move"),
}
_STREETS = {
    "de": (
        "Hauptstraße",
        "Bahnhofstraße",
        "Goethestraße",
        "Schillerstraße",
        "Lindenallee",
        "Marktplatz",
        "Kirchweg",
        "Am Hafen",
        "Industriestraße",
        "Gartenstraße",
    ),
    "fr": (
        "Rue de la République",
        "Avenue Victor Hugo",
        "Boulevard Voltaire",
        "Rue Pasteur",
        "Place de la Gare",
        "Rue Jean Jaurès",
        "Avenue de la Liberté",
        "Quai des Marchands",
    ),
    "en": (
        "High Street",
        "Station Road",
        "Church Lane",
        "Victoria Road",
        "Park Avenue",
        "King Street",
        "Mill Lane",
        "Queensway",
    ),
    "es": (
        "Calle Mayor",
        "Avenida de la Constitución",
        "Calle Real",
        "Plaza de España",
        "Paseo del Puerto",
        "Calle del Sol",
    ),
    "it": (
        "Via Roma",
        "Corso Italia",
        "Via Garibaldi",
        "Piazza del Duomo",
        "Via Mazzini",
        "Viale della Stazione",
    ),
    "nl": ("Stationsplein", "Kerkstraat", "Dorpsstraat", "Molenweg", "Marktplein", "Havenkade"),
    "nordic": ("Storgatan", "Kungsgatan", "Strandvejen", "Parkveien", "Torget", "Hamngatan"),
    "east": (
        "Ulica Główna",
        "Námestie Slobody",
        "Hlavní třída",
        "Kossuth utca",
        "Bulevard Unirii",
        "Vabaduse väljak",
    ),
}
_LANGUAGE = {
    "DE": "de",
    "AT": "de",
    "CH": "de",
    "LU": "fr",
    "FR": "fr",
    "BE": "fr",
    "GB": "en",
    "IE": "en",
    "ES": "es",
    "PT": "es",
    "IT": "it",
    "NL": "nl",
    "SE": "nordic",
    "NO": "nordic",
    "DK": "nordic",
    "FI": "nordic",
}
_NUMBER_FIRST = frozenset({"fr", "en"})  # "12 Rue Pasteur", else "Hauptstraße 12"
_POSTAL_DIGITS = {
    "AT": 4,
    "BE": 4,
    "CH": 4,
    "DK": 4,
    "NO": 4,
    "LU": 4,
    "HU": 4,
    "BG": 4,
    "SI": 4,
    "LV": 4,
    "GB": 0,
    "IE": 0,
    "NL": 4,
    "PT": 4,
}
_HOURS = ("Mo-Sa 07:00-22:00", "Mo-Fr 08:00-20:00", "Mo-Su 06:00-23:00", "Mo-Sa 08:00-21:00")
_CODES = {  # an operator's three letters in an EVSE id (eMI3: country*operator*E...)
    name: "".join(ch for ch in name.upper() if ch.isalpha())[:3].ljust(3, "X")
    for names in (*_OPERATORS.values(), _OPERATORS_EVERYWHERE)
    for name in names
}
_OUT_OF_TOWN = 0.12  # share along the roads between, far from a centre
BLOCK = 50_000  # points sorted by place together
_CITY_AT = list(accumulate(c.thousands for c in CITIES))


def spread_km(city: City) -> float:
    """How far a city's points scatter (the sigma of their distance from its centre)."""
    return 3.0 + 4.0 * math.sqrt(city.thousands / 1000.0)


def rows(count: int, seed: int, at: float) -> Iterator[tuple[Any, ...]]:
    """`count` points as rows in `rows.INSERT_COLUMNS` order, stamped `at`: in blocks that are
    sorted by place, ids ascending (a bulk load then writes its indexes near where it last did)."""
    rng = random.Random(seed)  # noqa: S311 - believable, not secret
    base = rng.getrandbits(80) & ~((1 << 40) - 1)  # ids: at's time, these bits, then a count
    made = 0
    while made < count:
        places = sorted((_place(rng) for _ in range(min(BLOCK, count - made))), key=_tile)
        for latitude, longitude, city in places:
            yield _row(rng, ulid_at(at, base + made), CITIES[city], latitude, longitude, at)
            made += 1


def _tile(place: tuple[float, float, int]) -> tuple[int, float]:
    """Bands of a quarter degree, west to east in each."""
    return int(place[0] * 4.0), place[1]


def _place(rng: random.Random) -> tuple[float, float, int]:
    """Where a point stands (latitude, longitude) and the city it belongs to."""
    city = bisect.bisect_right(_CITY_AT, rng.random() * _CITY_AT[-1])
    wide = rng.random() < _OUT_OF_TOWN
    sigma = spread_km(CITIES[city]) * (6.0 if wide else 1.0)
    km = sigma * math.sqrt(-2.0 * math.log(1.0 - rng.random()))  # Rayleigh: dense centre
    return (*_moved(CITIES[city], km, rng.random() * 2 * math.pi), city)


def _moved(city: City, km: float, bearing: float) -> tuple[float, float]:
    d = km / sphere.EARTH_RADIUS_KM
    lat1, lon1 = math.radians(city.latitude), math.radians(city.longitude)
    lat2 = math.asin(
        math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(bearing)
    )
    lon2 = lon1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(lat1),
        math.cos(d) - math.sin(lat1) * math.sin(lat2),
    )
    return round(math.degrees(lat2), 6), round((math.degrees(lon2) + 540) % 360 - 180, 6)


def _row(
    rng: random.Random, ulid: str, city: City, latitude: float, longitude: float, at: float
) -> tuple[Any, ...]:
    r = rng.random
    point_id = "cpnt" + ulid
    operators = _OPERATORS.get(city.alpha2, ()) + _OPERATORS_EVERYWHERE
    operator = operators[int(r() * len(operators))]
    language = _LANGUAGE.get(city.alpha2, "east")
    streets = _STREETS[language]
    street = streets[int(r() * len(streets))]
    number = 1 + int(r() * 180)
    address = f"{number} {street}" if language in _NUMBER_FIRST else f"{street} {number}"
    mix = bisect.bisect_right(_MIX_AT, r() * _MIX_AT[-1])
    _, _, low, high = _MIXES[mix]
    standards, power, shown = _MIX_PORTS[mix]
    code = _CODES[operator]
    station = 1 + int(r() * 99_999)
    evses = []
    statuses = 0
    for n in range(1, low + int(r() * (high - low + 1)) + 1):
        status = _STATUS_NAMES[bisect.bisect_right(_STATUS_AT, r() * _STATUS_AT[-1])]
        statuses |= _STATUS_BITS[status]
        evses.append([f"{city.alpha2}*{code}*E{station:05d}*{n}", status, shown])
    always = r() < 0.8
    return (
        point_id,
        f"{operator} {street}",
        address,
        city.name,
        _postal(rng, city.alpha2),
        city.alpha3,
        latitude,
        longitude,
        operator,
        None if always else rng.choice(_HOURS),
        always,
        orjson.dumps(evses).decode(),
        statuses,
        standards,
        power,
        None,
        None,
        None,
        at,
    )


def _postal(rng: random.Random, country: str) -> str:
    digits = _POSTAL_DIGITS.get(country, 5)
    if digits == 0:  # outward and inward codes
        letters = "ABCDEFGHJKLMNPRSTUWXY"
        area = "".join(rng.choices(letters, k=2))
        return f"{area}{rng.randint(1, 20)} {rng.randint(1, 9)}{''.join(rng.choices(letters, k=2))}"
    return f"{rng.randrange(10 ** (digits - 1), 10**digits)}"
