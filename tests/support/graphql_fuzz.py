"""Hostile GraphQL requests generated from the server's schema (hypothesis-graphql), for the fuzz
test: every String argument gets Flux and SQL fragments, path tricks, unicode, NUL, empty and
10,000-character strings mixed with valid symbols and ids; every Int and Float the edges of
their range and beyond; DateTime out-of-range years, offsets, dates and garbage; JSON nested
values of all of those. A document goes as written (literals) or with each argument lifted into
a variable, so both the literal and the variable parsers of every scalar see each value."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import graphql
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from graphql_server.schema import print_schema

FLUX = [
    '") |> drop()',
    'GOOG") |> drop(columns: ["_value"]) //',
    'r._measurement == "x" or true',
    '" or r.symbol != "',
    'GOOG" or true or r.symbol == "',
    "${bucket_name}",
    '|> to(bucket: "market")',
    'from(bucket: "market") |> range(start: 0) |> drop()',
    'import "sql"\nsql.from(driverName: "postgres", dataSourceName: "x", query: "x")',
    '\\") |> yield(name: "x")',
    "bucket_name",
]
SQL = [
    "'; DROP TABLE users; --",
    "' OR '1'='1",
    '" OR ""="',
    "1; DELETE FROM api_keys",
    "x' UNION SELECT secret_sha256 FROM api_keys --",
    "%' --",
    "admin'--",
    "'); UPDATE users SET is_admin = 1; --",
]
OTHER = [
    "",
    " ",
    "\t\n\r",
    "\x00",
    "GOOG\x00",
    "\u202eGOOG",  # right-to-left override
    "GOOG\u200b",  # zero-width space
    "\ufeffGOOG",
    "\uff27\uff2f\uff2f\uff27",  # full-width GOOG
    "😀",
    "İß",
    "\uffff",
    "../../etc/passwd",
    "..",
    "/",
    "%2e%2e%2f",
    "%s%s%s%n",
    "{0}{__class__}",
    "{ __schema { types { name } } }",
    "<script>alert(1)</script>",
    "null",
    "-1",
    "9" * 40,
    "A" * 10_000,
    "GOOG," * 2_000,
    "😀" * 5_000,
]
HOSTILE_STRINGS = FLUX + SQL + OTHER
# Values the server accepts, so that some requests get past validation to the stores.
VALID_STRINGS = ["GOOG", "GOOG", "SP500", "NASDAQ", "BTC/USD", "BRK.B", "close", "bar_1m", "x"]

INT_EDGES = [0, -1, 1, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**63, -(2**63), 10**30]
FLOAT_EDGES = [0.0, -0.0, 1e308, -1e308, 5e-324, 1.7976931348623157e308, 1e-10, 2.0**53 + 1]

DATETIME_EDGES = [
    # accepted
    "1678-01-01T00:00:00Z",
    "2261-12-31T23:59:59.999999",
    "2012-01-03",
    "2012-01-03T14:30:00.123456789Z",
    # refused
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59.999999",
    "9999-12-31T23:59:59-23:59",
    "1677-09-21T00:12:43Z",
    "2262-04-12T00:00:00Z",
    "2012-13-45T25:61:61Z",
    "2012-01-03T14:30:00+99:00",
    "now",
    "",
]
OFFSETS = [None, UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=23, minutes=59))]


def rarely(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int = 20) -> Any:
    """``common``, and ``rare`` once in ``odds + 1``: a value that fails the document's
    validation spoils all its fields, so those must not be in most documents."""
    return st.integers(0, odds).flatmap(lambda i: rare if i == 0 else common)


def hostile_text(known: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    """Hostile strings, valid ones (``known``: ids of what the server holds, too), random
    text, and valid ones with a hostile tail."""
    # Characters UTF-8 can encode: no lone surrogates (no JSON text can carry them).
    alphabet = st.characters(codec="utf-8")
    return st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        st.sampled_from(VALID_STRINGS + list(known)),
        st.text(alphabet, max_size=40),
        st.tuples(st.sampled_from(VALID_STRINGS), st.sampled_from(HOSTILE_STRINGS)).map("".join),
    )


def integers() -> st.SearchStrategy[int]:
    """32-bit integers, mostly small; beyond GraphQL's Int (an invalid document) rarely."""
    in_range = st.one_of(st.integers(-5, 200), st.sampled_from(INT_EDGES[:5]))
    return rarely(in_range, st.sampled_from(INT_EDGES[5:]) | st.integers())


def floats() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(FLOAT_EDGES), st.floats(allow_nan=False, allow_infinity=False))


def datetimes() -> st.SearchStrategy[str]:
    """ISO times the server takes (naive or with extreme offsets; around the stored bars; the
    edges of its range); rarely one it refuses: before 1678 or after 2261 (outside InfluxDB's
    nanoseconds, or ``datetime``'s in UTC), or a string that is not a time."""
    accepted = st.one_of(
        st.datetimes(
            min_value=datetime(1678, 1, 2),
            max_value=datetime(2261, 12, 30),
            timezones=st.sampled_from(OFFSETS),
        ).map(datetime.isoformat),
        st.datetimes(
            min_value=datetime(2004, 1, 1), max_value=datetime(2014, 1, 1), timezones=st.just(UTC)
        ).map(datetime.isoformat),
        st.sampled_from(DATETIME_EDGES[:4]),
    )
    refused = st.one_of(
        st.datetimes(timezones=st.sampled_from(OFFSETS)).map(datetime.isoformat),
        st.sampled_from(DATETIME_EDGES[4:]),
        hostile_text(),
    )
    return rarely(accepted, refused)


def json_values() -> st.SearchStrategy[Any]:
    """Nested JSON of hostile leaves, including training-config-shaped objects."""
    leaves = st.one_of(st.none(), st.booleans(), integers(), floats(), hostile_text())
    config_keys = st.sampled_from(
        ["name", "symbols", "start", "end", "label", "hyperparameters", "splits", "backend",
         "features", "timeframe", "kind", "horizon"]
    )  # fmt: skip
    keys = st.one_of(config_keys, hostile_text())
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
        max_leaves=20,
    )


def value_node(value: Any) -> graphql.ValueNode:
    """A GraphQL literal of a JSON value."""
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, dict):
        return nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=_name(k)),
                                                     value=value_node(v))
                             for k, v in value.items()])  # fmt: skip
    if isinstance(value, list):
        return nodes.List([value_node(v) for v in value])
    return _number_or_constant(value)


def _name(key: str) -> str:
    """An object field name GraphQL can spell (an input object's keys are names)."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in key)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"


def _number_or_constant(value: bool | int | float | None) -> graphql.ValueNode:
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    return nodes.Float(value)


def custom_scalars(known: tuple[str, ...] = ()) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """A strategy for every scalar of the schema, the built-in ones included (hypothesis-graphql
    lets a custom strategy replace a built-in one). Values of the wrong type are the negative
    mode's (``operations``)."""
    return {
        "String": hostile_text(known).map(value_node),
        "ID": hostile_text(known).map(value_node),
        "Int": integers().map(value_node),
        "Float": st.one_of(floats(), integers()).map(value_node),
        "DateTime": datetimes().map(value_node),
        "BigInt": rarely(integers().map(str), hostile_text()).map(value_node),
        "JSON": st.one_of(json_values(), json_values().map(json.dumps)).map(value_node),
    }


def operations(kind: str, known: tuple[str, ...] = ()) -> st.SearchStrategy[graphql.DocumentNode]:
    """Queries or mutations (``kind``) of the server's schema with hostile arguments (strings
    among them the ``known`` ids), one root field each: an error in a non-null root field nulls
    the whole answer, so this way every resolver answers on its own. Three in four are valid
    documents (their values hostile, of the right type), one has a schema violation (a wrong
    type, a missing argument, an unknown enum value: hypothesis-graphql's negative mode)."""
    sdl = print_schema()
    schema = graphql.build_schema(sdl)
    root = schema.query_type if kind == "query" else schema.mutation_type
    assert root is not None
    build = queries if kind == "query" else mutations
    scalars = custom_scalars(known)

    def of_field(name: str) -> st.SearchStrategy[graphql.DocumentNode]:
        valid, violating = (
            build(sdl, fields=[name], custom_scalars=scalars, print_ast=_as_document, mode=mode)
            for mode in (Mode.POSITIVE, Mode.NEGATIVE)
        )
        # A field without arguments has nothing to violate.
        return rarely(valid, violating, odds=3) if root.fields[name].args else valid

    names = sorted(root.fields)
    return st.sampled_from(names).flatmap(of_field)


def _as_document(document: graphql.DocumentNode) -> graphql.DocumentNode:
    return document


class _ArgumentsToVariables(graphql.Visitor):
    """Replaces each argument's literal with a variable of the argument's type."""

    def __init__(self, type_info: graphql.TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.variables: dict[str, Any] = {}
        self.definitions: list[graphql.VariableDefinitionNode] = []

    def enter_argument(self, node: graphql.ArgumentNode, *_args: Any) -> graphql.ArgumentNode:
        argument = self.type_info.get_argument()
        if argument is None:  # an argument the field does not have: left as written
            return node
        name = f"v{len(self.variables)}"
        self.variables[name] = graphql.value_from_ast_untyped(node.value)
        variable = graphql.VariableNode(name=graphql.NameNode(value=name))
        self.definitions.append(
            graphql.VariableDefinitionNode(
                variable=variable, type=graphql.parse_type(str(argument.type))
            )
        )
        return graphql.ArgumentNode(name=node.name, value=variable)


def with_variables(
    document: graphql.DocumentNode, schema: graphql.GraphQLSchema
) -> tuple[str, dict[str, Any]]:
    """The document with every argument a variable, and the variables' values."""
    type_info = graphql.TypeInfo(schema)
    lifter = _ArgumentsToVariables(type_info)
    lifted = graphql.visit(document, graphql.TypeInfoVisitor(type_info, lifter))
    operation = lifted.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    operation = dataclasses.replace(operation, variable_definitions=tuple(lifter.definitions))
    return graphql.print_ast(operation), lifter.variables


def server_schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(print_schema())
