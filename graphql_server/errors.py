"""Errors a GraphQL client sees as a plain message (what was wrong and how to fix it), and the
masking of every other error: the client gets "internal server error", the log the traceback."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

log = logging.getLogger(__name__)

INTERNAL_ERROR_MESSAGE = "internal server error: see the GraphQL server's log"


class QueryError(Exception):
    """A request the server cannot answer as asked (bad symbol, range too long, ...).

    Its message goes to the client unchanged and is logged without a traceback."""


class BackendUnavailable(QueryError):
    """InfluxDB or Kafka did not answer; the message says which and how to bring it up."""


def is_internal(error: GraphQLError) -> bool:
    """An error the client must not see: raised by the server's code, not a ``QueryError``."""
    original = error.original_error
    return original is not None and not isinstance(original, QueryError)


def mask_errors() -> MaskErrors:
    """The extension that replaces the message of every internal error."""
    return MaskErrors(should_mask_error=is_internal, error_message=INTERNAL_ERROR_MESSAGE)


class LoggedErrorsSchema(strawberry.Schema):
    """A schema that logs request errors as one line, internal ones with their traceback."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_internal(error):
                log.error("internal error: %s", error.message, exc_info=error.original_error)
            else:
                log.info("request error: %s", error.message)
