"""The API as clients see it is graphql_server/schema.graphql: a change to it is deliberate."""

from graphql_server.schema import SDL_PATH, print_schema


def test_the_printed_schema_is_the_exported_one():
    assert print_schema() == SDL_PATH.read_text(), (
        "the schema differs from graphql_server/schema.graphql; if the change is deliberate, "
        "run `streamlines graphql schema --out graphql_server/schema.graphql` (and say so in "
        "the CHANGELOG)"
    )
