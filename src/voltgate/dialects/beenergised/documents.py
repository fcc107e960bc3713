"""GraphQL documents, prepared once: parsed, bounded, validated and kept by their text, so a
repeated query is neither parsed nor validated again (graphql-core does both per call).

Bounds, checked before validation (whose overlapping-fields rule is quadratic in the fields):
the document's size and tokens, its field nodes and aliases, and — with fragments expanded —
its depth and cost: each field costs the number of times it may be resolved (a paged list's
`limit`, 5 for any other list), so a fragment bomb is cut off as soon as it is too costly.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 64 * 1024
    max_tokens: int = 5_000
    max_fields: int = 500  # field nodes in the document as written
    max_aliases: int = 100
    max_depth: int = 12
    max_cost: int = 25_000
    introspection: bool = True
    cached: int = 1_000  # documents kept (each with its validation); 0: none


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    operation: OperationDefinitionNode
    mutation: bool
    roots: frozenset[str]  # the operation's top-level field names


class Refused(Exception):
    """A document that is not run: `code` is its `extensions.code` (GraphQL-over-HTTP: 400)."""

    def __init__(self, code: str, messages: list[str]) -> None:
        super().__init__(messages[0])
        self.code = code
        self.messages = messages


class _TooCostly(Exception):
    pass


_LIST_FACTOR = 5
_PAGE_DEFAULT = 20
_PAGE_MAX = 100


class Documents:
    def __init__(self, schema: GraphQLSchema, limits: Limits) -> None:
        self._schema = schema
        self._limits = limits
        rules = list(specified_rules)
        if not limits.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self._rules = tuple(rules)
        self._kept: OrderedDict[tuple[str, str | None], Prepared | Refused] = OrderedDict()
        self.hits = self.misses = 0

    def prepare(self, query: str, operation_name: str | None) -> Prepared:
        """The document ready to run, or Refused (kept too: a repeated bad one costs nothing)."""
        key = (query, operation_name)
        found = self._kept.get(key)
        if found is None:
            self.misses += 1
            found = self._prepare(query, operation_name)
            if self._limits.cached:  # 0: nothing kept, parsed and validated on every request
                if len(self._kept) >= self._limits.cached:
                    self._kept.popitem(last=False)
                self._kept[key] = found
        else:
            self.hits += 1
            self._kept.move_to_end(key)  # least recently used goes first, not the oldest
        if isinstance(found, Refused):
            raise found
        return found

    def _prepare(self, query: str, operation_name: str | None) -> Prepared | Refused:
        limits = self._limits
        if len(query.encode()) > limits.max_bytes:
            return Refused(
                "BAD_USER_INPUT", [f"the document is larger than {limits.max_bytes} bytes"]
            )
        try:
            document = parse(query, no_location=False, max_tokens=limits.max_tokens)
        except GraphQLError as exc:
            return Refused("GRAPHQL_PARSE_FAILED", [exc.message])
        fields = aliases = 0
        for node in _fields(document):
            fields += 1
            aliases += node.alias is not None
        if fields > limits.max_fields:
            return Refused(
                "BAD_USER_INPUT", [f"the document has more than {limits.max_fields} fields"]
            )
        if aliases > limits.max_aliases:
            return Refused(
                "BAD_USER_INPUT", [f"the document has more than {limits.max_aliases} aliases"]
            )
        operation = _operation(document, operation_name)
        if isinstance(operation, Refused):
            return operation
        refused = self._measure(document, operation)
        if refused is not None:
            return refused
        errors = validate(self._schema, document, self._rules, max_errors=20)
        if errors:
            return Refused("GRAPHQL_VALIDATION_FAILED", [e.message for e in errors])
        roots = frozenset(
            s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)
        )
        mutation = operation.operation is OperationType.MUTATION
        return Prepared(document, operation, mutation, roots)

    def _measure(
        self, document: DocumentNode, operation: OperationDefinitionNode
    ) -> Refused | None:
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        root = (
            self._schema.mutation_type
            if operation.operation is OperationType.MUTATION
            else self._schema.query_type
        )
        walk = _Walk(self._schema, fragments, self._limits)
        with contextlib.suppress(_TooCostly):
            walk.selections(operation.selection_set, root, 1, 1)
        limits = self._limits
        if walk.depth > limits.max_depth:
            return Refused(
                "BAD_USER_INPUT", [f"the query is nested deeper than {limits.max_depth} levels"]
            )
        if walk.cost > limits.max_cost:
            return Refused(
                "BAD_USER_INPUT",
                [f"the query may resolve more than {limits.max_cost} fields; ask for less"],
            )
        return None


class _Walk:
    """Depth and cost with fragments expanded; stops as soon as either is over its limit.

    Introspection (`__schema`, `__type`) is costed like any other selection, over the
    introspection types, but its depth is not counted: clients' own introspection query nests
    its type references deeper than any query of data needs, and its lists bound it by cost."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        limits: Limits,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._limits = limits
        self.depth = 0
        self.cost = 0

    def selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLObjectType | None,
        depth: int,
        factor: int,
        spreads: frozenset[str] = frozenset(),
        page: int | None = None,
    ) -> None:
        """`page`: the page size a paged field asked for, which its list (`data`) holds."""
        if depth > self.depth:
            self.depth = depth
            if depth > self._limits.max_depth:
                raise _TooCostly
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                self._field(node, parent, depth, factor, spreads, page)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self._type(condition.name.value) if condition else parent
                self.selections(node.selection_set, target, depth, factor, spreads, page)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in spreads:
                    continue  # unknown or cyclic: validation says so
                target = self._type(fragment.type_condition.name.value)
                self.selections(
                    fragment.selection_set, target, depth, factor, spreads | {name}, page
                )

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLObjectType | None,
        depth: int,
        factor: int,
        spreads: frozenset[str],
        page: int | None,
    ) -> None:
        self.cost += factor
        if self.cost > self._limits.max_cost:
            raise _TooCostly
        if node.selection_set is None:
            return
        name = node.name.value
        if name in _INTROSPECTION:
            target = self._type(_INTROSPECTION[name])
            self.selections(node.selection_set, target, _UNCOUNTED, factor, spreads)
            return
        definition = None if parent is None else parent.fields.get(name)
        target = None
        inner = factor
        paged = None
        if definition is not None:
            named = get_named_type(definition.type)
            target = named if isinstance(named, GraphQLObjectType) else None
            if is_list_type(get_nullable_type(definition.type)):
                inner *= _LIST_FACTOR if page is None else page
            if "pagination" in definition.args:
                paged = _page_size(node)
        self.selections(node.selection_set, target, depth + 1, inner, spreads, paged)

    def _type(self, name: str) -> GraphQLObjectType | None:
        found = self._schema.get_type(name)
        return found if isinstance(found, GraphQLObjectType) else None


_INTROSPECTION = {"__schema": "__Schema", "__type": "__Type"}
# A depth that stays below any limit however deep it nests: introspection's is not counted.
_UNCOUNTED = -1_000_000


def _page_size(node: FieldNode) -> int:
    """How many items a paged list may give: its literal `limit`, the most there may be when
    the limit is a variable (unknown until it runs), else the default page."""
    for argument in node.arguments or ():
        if argument.name.value != "pagination":
            continue
        if not isinstance(argument.value, ObjectValueNode):
            return _PAGE_MAX  # the whole pagination is a variable
        for item in argument.value.fields:
            if item.name.value == "limit":
                if isinstance(item.value, IntValueNode):
                    return max(1, min(int(item.value.value), _PAGE_MAX))
                return _PAGE_MAX
    return _PAGE_DEFAULT


def _fields(document: DocumentNode) -> Iterator[FieldNode]:
    stack: list[SelectionSetNode] = []
    for definition in document.definitions:
        selection_set = getattr(definition, "selection_set", None)
        if selection_set is not None:
            stack.append(selection_set)
    while stack:
        for node in stack.pop().selections:
            if isinstance(node, FieldNode):
                yield node
            selection_set = getattr(node, "selection_set", None)
            if selection_set is not None:
                stack.append(selection_set)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | Refused:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        return Refused("BAD_USER_INPUT", ["the document holds no operation"])
    if name is None:
        if len(operations) > 1:
            return Refused(
                "BAD_USER_INPUT",
                ["the document holds several operations: name one in operationName"],
            )
        return operations[0]
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    return Refused("BAD_USER_INPUT", [f"the document has no operation named {name!r}"])
