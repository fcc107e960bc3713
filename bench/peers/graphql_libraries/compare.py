"""Run inside the peer venv by bench/peers/graphql_libraries.py: the same cpsPaged-shaped answer
(20 points, 2 EVSEs each, 1 connector each) through graphql-core as voltgate uses it (SDL,
dict results, default resolvers, the document prepared once) and through strawberry-graphql's
own pipeline (typed classes, `Schema.execute`), each timed over the same query."""

import asyncio
import time

import strawberry
from graphql import build_schema, execute, parse, validate


def rows():
    return [
        {
            "id": str(i),
            "name": "n",
            "address": "a",
            "distance": 0.5,
            "operator": "o",
            "evses": [
                {
                    "evseId": "e",
                    "status": "AVAILABLE",
                    "connectors": [
                        {
                            "id": "c",
                            "standard": "IEC_62196_T2",
                            "powerType": "AC_3_PHASE",
                            "maxElectricPower": 22000,
                        }
                    ],
                }
                for _ in range(2)
            ],
        }
        for i in range(20)
    ]


SDL = """type Query { cpsPaged: CpPage! }
type CpPage { pagination: Pag! data: [Cp!]! }
type Pag { totalCount: Int! }
type Cp { id: ID! name: String! address: String! distance: Float operator: String! evses: [Evse!]! }
type Evse { evseId: String! status: String! connectors: [Conn!]! }
type Conn { id: ID! standard: String! powerType: String! maxElectricPower: Int! }"""
gschema = build_schema(SDL)


async def cps(_root, _info):
    return {"pagination": {"totalCount": 3454}, "data": rows()}


gschema.query_type.fields["cpsPaged"].resolve = cps


@strawberry.type
class Conn:
    id: strawberry.ID
    standard: str
    powerType: str
    maxElectricPower: int


@strawberry.type
class Evse:
    evseId: str
    status: str
    connectors: list[Conn]


@strawberry.type
class Cp:
    id: strawberry.ID
    name: str
    address: str
    distance: float | None
    operator: str
    evses: list[Evse]


@strawberry.type
class Pag:
    totalCount: int


@strawberry.type
class CpPage:
    pagination: Pag
    data: list[Cp]


def build(r):
    return Cp(
        id=r["id"],
        name=r["name"],
        address=r["address"],
        distance=r["distance"],
        operator=r["operator"],
        evses=[
            Evse(
                evseId=e["evseId"],
                status=e["status"],
                connectors=[Conn(**c) for c in e["connectors"]],
            )
            for e in r["evses"]
        ],
    )


@strawberry.type
class Query:
    @strawberry.field
    async def cpsPaged(self) -> CpPage:
        return CpPage(pagination=Pag(totalCount=3454), data=[build(r) for r in rows()])


sschema = strawberry.Schema(query=Query)

Q = (
    "{ cpsPaged { pagination { totalCount } data { id name address distance operator "
    "evses { evseId status connectors { id standard powerType maxElectricPower } } } } }"
)


async def main():
    doc = parse(Q)
    assert not validate(gschema, doc)
    n = 500
    for name, run in (
        ("graphql-core, document prepared once", lambda: execute(gschema, doc)),
        ("strawberry execute (its pipeline: parse+validate each time)", lambda: sschema.execute(Q)),
    ):
        for _ in range(50):
            r = run()
            r = await r if asyncio.iscoroutine(r) or hasattr(r, "__await__") else r
        t = time.perf_counter()
        for _ in range(n):
            r = run()
            r = await r if asyncio.iscoroutine(r) or hasattr(r, "__await__") else r
        assert not r.errors, r.errors
        print(f"{name}: {(time.perf_counter() - t) / n * 1e6:.0f} us")


asyncio.run(main())
