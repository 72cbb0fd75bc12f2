"""Errors a GraphQL client sees as a plain message: what was wrong and how to fix it."""

from __future__ import annotations


class QueryError(Exception):
    """A request the server cannot answer as asked (bad symbol, range too long, ...).

    Its message goes to the client unchanged and is logged without a traceback."""


class BackendUnavailable(QueryError):
    """InfluxDB or Kafka did not answer; the message says which and how to bring it up."""
