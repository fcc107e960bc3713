"""be.ENERGISED: a user-based GraphQL API at `/graphql` (and `/graphql/`; GET for queries).

The application's pre-shared key starts a contact's session (`initSession`) or registers a
contact; the session token (60 minutes) or an external IdP's access token is the bearer for
everything else; `refreshSession` takes the refresh token. Resolvers call the same services
as the REST dialects: the charge points are the operators' chargers, `remoteStart` queues a
real start command.
"""

from __future__ import annotations

from voltgate.dialects.beenergised.caller import Callers
from voltgate.dialects.beenergised.charging import Charging
from voltgate.dialects.beenergised.documents import Documents, Limits
from voltgate.dialects.beenergised.endpoint import GraphQLEndpoint
from voltgate.dialects.beenergised.failures import GRAPHQL_ERRORS
from voltgate.dialects.beenergised.points import Points
from voltgate.dialects.beenergised.schema import build, unbound
from voltgate.dialects.beenergised.sessions import Sessions
from voltgate.http.kept import Kept
from voltgate.http.routing import Body, RouteTable
from voltgate.runtime import Runtime

PATHS = ("/graphql", "/graphql/")


def mount(table: RouteTable, rt: Runtime, kept: Kept) -> None:
    identity = rt.identity
    settings = rt.settings
    sessions = Sessions(identity.contacts, identity.users, identity.delegation, identity.clients)
    retail = rt.retail
    charging = Charging(retail.contracts, retail.remote)
    points = rt.fleet.charge_points
    schema = build([sessions.resolvers(), Points(points).resolvers(), charging.resolvers()])
    missing = unbound(schema)
    if missing:  # a field the schema promises and nothing answers: refuse to start
        raise RuntimeError(f"be.ENERGISED fields without a resolver: {', '.join(missing)}")
    limits = Limits(
        max_depth=settings.graphql_max_depth,
        max_cost=settings.graphql_max_cost,
        max_aliases=settings.graphql_max_aliases,
        introspection=settings.graphql_introspection,
        cached=1_000 if settings.graphql_cache else 0,
    )
    callers = Callers(
        rt.crypto.formats,
        identity.authenticator,
        identity.guard,
        identity.delegation,
        identity.contacts,
        identity.external,
    )
    endpoint = GraphQLEndpoint(
        schema,
        Documents(schema, limits),
        callers,
        kept,
        rt.clock,
        keepable={"cpsPaged": points.version, "cp": points.version},
        max_batch=settings.graphql_max_batch,
        cache=settings.graphql_cache,
    )
    graphql = table.scope(errors=GRAPHQL_ERRORS, tags=("be.ENERGISED",))
    for path in PATHS:
        graphql.post(
            path,
            endpoint.post,
            body=Body.raw(),
            failures=(401, 403),
            summary="be.ENERGISED GraphQL API (a document, or a batch of them)",
        )
        graphql.get(
            path,
            endpoint.get,
            failures=(400, 401, 403),
            summary="be.ENERGISED GraphQL API: a query in ?query=",
        )
