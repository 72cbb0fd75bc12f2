"""Errors a GraphQL client sees as a plain message (what was wrong and how to fix it), and the
masking of every other error: the client gets "internal server error", the log the traceback."""

from __future__ import annotations

import json
import logging
from typing import Any

import strawberry
from cross_web import HTTPException
from graphql import GraphQLError
from strawberry.types import ExecutionContext, ExecutionResult

log = logging.getLogger(__name__)

INTERNAL_ERROR_MESSAGE = "internal server error: see the GraphQL server's log"


class QueryError(Exception):
    """A request the server cannot answer as asked (bad symbol, range too long, ...).

    Its message goes to the client unchanged and is logged without a traceback."""


class BackendUnavailable(QueryError):
    """InfluxDB or Kafka did not answer; the message says which and how to bring it up."""


def is_internal(error: GraphQLError) -> bool:
    """An error the client must not see: raised by the server's code, not a ``QueryError``.

    Before execution (no path), an error caused by another ``GraphQLError`` is the client's:
    graphql-core and strawberry wrap so a variable's value they refused (``Variable '$v' has
    invalid value: ...``). During execution it is the server's (a value it cannot serialize)."""
    original = error.original_error
    if original is None or isinstance(original, QueryError):
        return False
    return not (isinstance(original, GraphQLError) and error.path is None)


def masked(error: GraphQLError) -> GraphQLError:
    """``error`` as the client gets it: an internal one with its message replaced and its
    cause dropped (where it was stays), any other one as it is."""
    if not is_internal(error):
        return error
    return GraphQLError(
        INTERNAL_ERROR_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
    )


REQUEST_BODY_HINT = 'send a JSON object such as {"query": "{ symbols }", "variables": {}}'


def decode_request_body(data: str | bytes) -> object:
    """The JSON of a GraphQL request's body (an object, or a list: a batch); anything else is
    refused with HTTP 400 and a message (the view's own decoding answers 500 to a body that is
    not UTF-8, nested too deep for the decoder, or ``null``)."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError: ValueErrors
        raise HTTPException(
            400,
            f"the request body is not JSON in UTF-8 (or is nested too deeply): {REQUEST_BODY_HINT}",
        ) from None
    if not isinstance(value, dict | list):
        raise HTTPException(400, f"the request body is not a JSON object: {REQUEST_BODY_HINT}")
    return value


class LoggedErrorsSchema(strawberry.Schema):
    """A schema that logs request errors as one line, internal ones with their traceback, and
    masks the internal ones for the client.

    The masking is done where every result passes (a query's, each of a subscription's), after
    the errors were logged: Strawberry's MaskErrors extension did it, but as an extension it
    hooks each subscription result with context managers of its own, which took a third of
    the server's CPU per live message (benchmarks/fanout.py: 129 µs a message with it, 85
    without)."""

    async def _handle_execution_result(
        self,
        context: ExecutionContext,
        result: Any,
        extensions_runner: Any,
        *,
        skip_process_errors: bool = False,
    ) -> ExecutionResult:
        handled = await super()._handle_execution_result(
            context, result, extensions_runner, skip_process_errors=skip_process_errors
        )
        errors = getattr(handled, "errors", None)
        if errors:
            handled.errors = [masked(error) for error in errors]
        return handled

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_internal(error):
                log.error("internal error: %s", error.message, exc_info=error.original_error)
            else:
                log.info("request error: %s", error.message)
