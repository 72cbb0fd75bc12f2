"""The cost of a document, on a small schema made for the rule's cases."""

from __future__ import annotations

from typing import Any

from graphql import FragmentDefinitionNode, OperationDefinitionNode, build_schema, parse

from graphql_server.query_cost import DEFAULT_LIST_SIZE, QueryCost

SCHEMA = build_schema("""
    type Bar { t: Int  close: Float  trades: [Trade!]! }
    type Trade { price: Float }
    type Page { items: [Bar!]! }
    type Query {
      bars(limit: Int): [Bar!]!
      jobs(limit: Int! = 20): [Bar!]!
      latest: Bar
      page: Page
      columns: [Float]!
    }
""")


def cost(document: str, variables: dict[str, Any] | None = None) -> int:
    parsed = parse(document)
    fragments = {d.name.value: d for d in parsed.definitions
                 if isinstance(d, FragmentDefinitionNode)}  # fmt: skip
    (operation,) = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    root = SCHEMA.query_type
    assert root is not None
    return QueryCost(SCHEMA, fragments, variables).of(operation.selection_set, root)


def test_each_field_costs_one_and_an_object_adds_its_selection():
    assert cost("{ latest { t close } }") == 3
    assert cost("{ columns }") == 1  # a list of scalars is one field
    assert cost("{ page { items { t } } }") == 1 + 1 + DEFAULT_LIST_SIZE * 1


def test_a_list_of_objects_multiplies_by_its_limit_else_its_default_else_100():
    assert cost("{ bars(limit: 500) { t close } }") == 1 + 500 * 2
    assert cost("query($n: Int) { bars(limit: $n) { t } }", {"n": 7}) == 1 + 7
    assert cost("{ bars { t } }") == 1 + DEFAULT_LIST_SIZE
    assert cost("{ jobs { t } }") == 1 + 20  # the schema's default limit
    assert cost("{ bars(limit: -5) { t } }") == 1 + 1  # never below one item


def test_nested_lists_multiply():
    assert cost("{ bars(limit: 10) { t trades { price } } }") == 1 + 10 * (1 + 1 + 100 * 1)


def test_fragments_count_where_they_are_spread_and_introspection_counts_one():
    spread = "{ bars(limit: 10) { ...F } } fragment F on Bar { t close }"
    inline = "{ bars(limit: 10) { ... on Bar { t close } } }"
    assert cost(spread) == cost(inline) == 1 + 10 * 2
    cycle = "{ latest { ...A } } fragment A on Bar { t ...A }"
    assert cost(cycle) == 1 + 1  # a cycle is another rule's error; it must not loop here
    assert cost("{ __schema { types { fields { name } } } __typename }") == 2
