"""What a query may cost the server, estimated from its document before it runs.

The rule (``graphql_server/limits.py`` holds the limit):

- each field costs 1, plus what its selection costs;
- a field that returns a list of objects costs 1 plus its selection's cost times the number of
  items it may return: its ``limit`` argument (given, else the schema's default for it), else
  ``DEFAULT_LIST_SIZE``;
- a list of scalars (a column such as ``close: [Float]``) is a field like any other: 1;
- introspection fields (``__schema``, ``__type``, ``__typename``) cost 1 each, whatever they
  select: GraphiQL's schema query must pass.

So ``{ bars(limit: 500) { tNs open close } }`` costs 1 + 500 x 3 = 1,501 and
``{ models { id backtests { id } } }`` costs 1 + 100 x (1 + 1 + 100 x 1) = 10,201.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_named_type,
    is_composite_type,
)
from graphql.type import GraphQLCompositeType, GraphQLInterfaceType

# Items a list of objects counts for when nothing says how many it may return.
DEFAULT_LIST_SIZE = 100
LIMIT_ARGUMENT = "limit"


class QueryCost:
    """The cost of operations of one document with these variable values."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables or {}

    def of(self, selection_set: SelectionSetNode, parent: GraphQLCompositeType) -> int:
        return self._selection(selection_set, parent, frozenset())

    def _selection(
        self, selection_set: SelectionSetNode, parent: GraphQLCompositeType, seen: frozenset[str]
    ) -> int:
        cost = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                cost += self._field(node, parent, seen)
            elif isinstance(node, InlineFragmentNode):
                cost += self._selection(node.selection_set, self._condition(node, parent), seen)
            elif isinstance(node, FragmentSpreadNode):
                cost += self._spread(node, parent, seen)
        return cost

    def _spread(
        self, node: FragmentSpreadNode, parent: GraphQLCompositeType, seen: frozenset[str]
    ) -> int:
        name = node.name.value
        fragment = self.fragments.get(name)
        if fragment is None or name in seen:  # unknown or a cycle: other rules report those
            return 0
        return self._selection(
            fragment.selection_set, self._condition(fragment, parent), seen | {name}
        )

    def _condition(
        self, node: InlineFragmentNode | FragmentDefinitionNode, parent: GraphQLCompositeType
    ) -> GraphQLCompositeType:
        if node.type_condition is None:
            return parent
        found = self.schema.get_type(node.type_condition.name.value)
        return found if is_composite_type(found) else parent

    def _field(self, node: FieldNode, parent: GraphQLCompositeType, seen: frozenset[str]) -> int:
        name = node.name.value
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):  # a union has none
            definition = parent.fields.get(name)
        if name.startswith("__") or definition is None or node.selection_set is None:
            return 1
        item_type = get_named_type(definition.type)
        if not is_composite_type(item_type):
            return 1
        inner = self._selection(node.selection_set, item_type, seen)
        if not _is_list(definition.type):
            return 1 + inner
        return 1 + self._list_size(node, definition.args) * inner

    def _list_size(self, node: FieldNode, arguments: Mapping[str, GraphQLArgument]) -> int:
        size: object = None
        for argument in node.arguments or ():
            if argument.name.value != LIMIT_ARGUMENT:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                size = int(value.value)
            elif isinstance(value, VariableNode):
                size = self.variables.get(value.name.value)
        if size is None and LIMIT_ARGUMENT in arguments:
            size = _default(arguments[LIMIT_ARGUMENT])
        if not isinstance(size, int) or isinstance(size, bool):
            return DEFAULT_LIST_SIZE
        return max(size, 1)


def _default(argument: GraphQLArgument) -> object:
    """An argument's default value: a Python value (Strawberry's schema) or a literal (SDL)."""
    if argument.default_value is not Undefined:
        return argument.default_value
    literal = argument.default.literal if argument.default is not None else None
    return int(literal.value) if isinstance(literal, IntValueNode) else None


def _is_list(kind: GraphQLOutputType) -> bool:
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)
