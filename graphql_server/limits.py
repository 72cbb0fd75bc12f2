"""The server's limits on what one client may ask of it, each with an error that says what to do.

Per client (the API key's prefix; the client's address without a valid key), across HTTP and
websockets:

- requests per minute (``STREAMLINES_GRAPHQL_RATE_LIMIT_PER_MINUTE``): a token bucket
  (``graphql_server.rate_limit``); every operation takes a token, a subscription's too. Over
  it: a ``RATE_LIMITED`` error saying when to retry (over HTTP also status 429 and
  ``Retry-After``);
- open subscriptions (``STREAMLINES_GRAPHQL_MAX_SUBSCRIPTIONS``), counted over the whole server
  (``graphql_server.subscription_slots``) and given back when a subscription ends, however it
  ends;
- jobs queued or running per user (``STREAMLINES_GRAPHQL_MAX_RUNNING_JOBS``):
  ``job_slots_error``, which the job registry asks when a job starts.

Per document, before anything runs: its depth (``MAX_QUERY_DEPTH`` in ``graphql_server.schema``),
its tokens (``MAX_TOKENS``), its aliases (``STREAMLINES_GRAPHQL_MAX_ALIASES``) and its cost
(``STREAMLINES_GRAPHQL_MAX_QUERY_COST``): each field 1; a field returning a list of objects 1
plus its selection's cost times its ``limit`` argument (else the schema's default limit, else
100); see ``graphql_server.query_cost``.

The per-client state lives in the server's context (``RateLimiter``, ``SubscriptionSlots``
services); a context without them (in-process tests) is not limited per client.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    ValidationContext,
    ValidationRule,
)
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import count_fields_with_alias
from strawberry.types.graphql import OperationType

from graphql_server.auth import AuthError, authenticate, request_token
from graphql_server.context import Context
from graphql_server.errors import QueryError
from graphql_server.query_cost import QueryCost
from graphql_server.rate_limit import RateLimiter
from graphql_server.subscription_slots import SubscriptionSlots
from streamlines.metadata.accounts import Accounts, Principal

log = logging.getLogger(__name__)

# Tokens (names, punctuation, values) a document may have: the parser stops past them.
MAX_TOKENS = 2_000


class LimitError(QueryError):
    """A limit was reached; ``extensions`` carry a code (and a retry delay) for programs."""

    def __init__(self, message: str, extensions: dict[str, Any]) -> None:
        super().__init__(message)
        self.extensions = extensions


@dataclass(frozen=True)
class Client:
    """Who the per-client limits count for: ``id`` keys the counters, ``label`` names it."""

    id: str
    label: str


def client_of(context: dict[str, Any]) -> Client:
    """The request's API key (by its prefix) when it sends a valid one, else its address."""
    principal = _principal(context)
    if principal is not None:
        return Client(f"key:{principal.key_prefix}", f"key {principal.key_prefix}…")
    request = context.get("request")
    host = getattr(getattr(request, "client", None), "host", None) or "unknown"
    return Client(f"address:{host}", f"address {host}")


def _principal(context: dict[str, Any]) -> Principal | None:
    """The key's user as ``graphql_server.auth.viewer`` finds it (and keeps it for the
    resolvers of an HTTP request); None without a key or with one that is not valid (the
    resolvers refuse those)."""
    if "principal" in context:
        return context["principal"]
    app: Context = context["app"]
    accounts = app.services.get(Accounts)
    if accounts is None:
        return None
    try:
        principal = authenticate(accounts, request_token(context))
    except AuthError:
        return None
    except Exception:  # the database is down, say: limit by address, the resolvers will fail
        log.warning("could not look up the request's key for its limits", exc_info=True)
        return None
    if context.get("connection_params") is None:
        context["principal"] = principal
    return principal


def rate_limited(limiter: RateLimiter, client: Client, wait: float) -> LimitError:
    return LimitError(
        f"rate limit of {limiter.per_minute:,} requests a minute reached for {client.label}: "
        f"retry in {wait:.1f} s",
        {"code": "RATE_LIMITED", "retryAfter": round(wait, 1)},
    )


def too_many_subscriptions(slots: SubscriptionSlots, client: Client) -> LimitError:
    return LimitError(
        f"{client.label} already has {slots.open(client.id)} subscriptions open, the most one "
        "client may have (STREAMLINES_GRAPHQL_MAX_SUBSCRIPTIONS): stop one first, or use "
        "one subscription for several symbols",
        {"code": "TOO_MANY_SUBSCRIPTIONS"},
    )


def job_slots_error(running: int, limit: int) -> LimitError | None:
    """The error for starting a job when its user has ``running`` jobs queued or running and
    may have ``limit`` at once; None when there is room."""
    if running < limit:
        return None
    if limit <= 0:
        return LimitError(
            "this server runs no jobs for its users (STREAMLINES_GRAPHQL_MAX_RUNNING_JOBS is "
            f"{limit}): ask its operator",
            {"code": "TOO_MANY_JOBS"},
        )
    return LimitError(
        f"{running} jobs running; retry when one finishes (see `jobs`): one user may have "
        f"{limit} queued or running at once (STREAMLINES_GRAPHQL_MAX_RUNNING_JOBS)",
        {"code": "TOO_MANY_JOBS"},
    )


class ClientLimits(SchemaExtension):
    """The rate limit and the open subscriptions per client. The token is taken when the
    operation arrives (a document that does not validate costs one too) and the refusal comes
    at execution: there an error reaches a websocket client as a message, earlier it would
    drop the operation."""

    def __init__(self) -> None:
        self._client: Client | None = None
        self._wait = 0.0
        self._slots: SubscriptionSlots | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        app: Context | None = context.get("app") if isinstance(context, dict) else None
        limiter = None if app is None else app.services.get(RateLimiter)
        if app is not None and (limiter is not None or SubscriptionSlots in app.services):
            self._client = client_of(context)
            self._wait = limiter.take(self._client.id) if limiter is not None else 0.0
        try:
            yield
        finally:
            if self._slots is not None and self._client is not None:
                self._slots.release(self._client.id)
                self._slots = None

    def on_execute(self) -> Iterator[None]:
        if self._client is not None:
            app: Context = self.execution_context.context["app"]
            if self._wait > 0:
                self._refuse_over_http(self.execution_context.context)
                raise rate_limited(app.get(RateLimiter), self._client, self._wait)
            if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
                self._take_subscription_slot(app.services.get(SubscriptionSlots), self._client)
        yield

    def _take_subscription_slot(self, slots: SubscriptionSlots | None, client: Client) -> None:
        if slots is None:
            return
        if not slots.acquire(client.id):
            raise too_many_subscriptions(slots, client)
        self._slots = slots

    def _refuse_over_http(self, context: dict[str, Any]) -> None:
        response = context.get("response")
        if isinstance(response, Response):
            response.status_code = 429
            response.headers["Retry-After"] = str(max(1, math.ceil(self._wait)))


class DocumentLimits(SchemaExtension):
    """Tokens, aliases and cost of the document, with the limits in the server's settings."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        app: Context | None = context.get("app") if isinstance(context, dict) else None
        if app is not None:
            settings = app.settings
            self.execution_context.parse_options["max_tokens"] = MAX_TOKENS
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                aliases_rule(settings.graphql_max_aliases),
                cost_rule(settings.graphql_max_query_cost, self.execution_context.variables),
            )
        yield


def aliases_rule(max_aliases: int) -> type[ValidationRule]:
    class MaxAliases(ValidationRule):
        def enter_document(self, node: Any, *_args: object) -> None:
            fragments = _fragments(self.context)
            count = sum(
                count_fields_with_alias(definition, fragments)
                for definition in node.definitions
                if isinstance(definition, OperationDefinitionNode)
            )
            if count > max_aliases:
                self.report_error(GraphQLError(
                    f"{count} aliases in one document; the server allows {max_aliases} "
                    "(STREAMLINES_GRAPHQL_MAX_ALIASES): split it into several requests"
                ))  # fmt: skip

    return MaxAliases


def cost_rule(max_cost: int, variables: dict[str, Any] | None) -> type[ValidationRule]:
    class MaxCost(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
            root = self.context.schema.get_root_type(node.operation)
            if root is None:
                return
            cost = QueryCost(self.context.schema, _fragments(self.context), variables)
            total = cost.of(node.selection_set, root)
            if total > max_cost:
                self.report_error(GraphQLError(
                    f"query cost {total:,} is over the server's limit of {max_cost:,}: ask for "
                    "fewer fields or a smaller limit (each field costs 1, a list of objects "
                    "its limit, else 100, times its fields; STREAMLINES_GRAPHQL_MAX_QUERY_COST)",
                    node,
                ))  # fmt: skip

    return MaxCost


def _fragments(context: ValidationContext) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in context.document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
