"""The schema (schema.graphql, with its descriptions) and the resolvers bound to its fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.resources import files
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, build_schema

Resolvers = Mapping[str, Mapping[str, Any]]  # type name -> field name -> resolver


def sdl() -> str:
    return (files("voltgate.dialects.beenergised") / "schema.graphql").read_text("utf-8")


def build(tables: Iterable[Resolvers]) -> GraphQLSchema:
    """The schema with these resolvers bound (`unbound` names root fields left without)."""
    schema = build_schema(sdl())
    for table in tables:
        for type_name, fields in table.items():
            owner = schema.get_type(type_name)
            assert isinstance(owner, GraphQLObjectType), type_name
            for name, resolver in fields.items():
                owner.fields[name].resolve = resolver
    return schema


def unbound(schema: GraphQLSchema) -> list[str]:
    """Root fields without a resolver (each would answer null, or an error where non-null)."""
    roots = [t for t in (schema.query_type, schema.mutation_type) if t is not None]
    return [f"{t.name}.{name}" for t in roots for name, f in t.fields.items() if f.resolve is None]
