"""Who a request acts as: the user of its API key, sent as ``Authorization: Bearer <key>`` over
HTTP or as ``{"Authorization": "Bearer <key>"}`` (or ``{"token": "<key>"}``) in the
graphql-transport-ws ``connection_init`` payload.

Resolvers ask with ``viewer`` (None without a key), ``require_key`` (every mutation, and all
that users own) or ``public_read`` (market data and analytics: open when the server's
``public_data`` setting is on). A key that is sent but not valid is refused, never treated as
no key. Keys are checked against the database on each request, so a revocation takes effect at
once.
"""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from graphql_server.context import Context
from graphql_server.errors import QueryError
from streamlines.metadata.accounts import Accounts, Principal

CREATE_KEY_HINT = "create one with `streamlines keys create USER` and send it as " \
    "`Authorization: Bearer <key>`"  # fmt: skip
_UNSET = object()


class AuthError(QueryError):
    """No key, a key that is not valid, or a key whose user may not do this."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        # UNAUTHENTICATED or FORBIDDEN: graphql-core copies an error's ``extensions`` into the
        # response, so clients can tell "send a key" from "not yours" without parsing text.
        self.extensions = {"code": code}


def bearer_token(headers: Any) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header (None without one)."""
    value = (headers.get("authorization") or "").strip() if headers is not None else ""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(
            "the Authorization header is not `Bearer <key>`: " + CREATE_KEY_HINT, "UNAUTHENTICATED"
        )
    return token.strip()


def connection_token(params: Any) -> str | None:
    """The key of a websocket's ``connection_init`` payload (None without one)."""
    if not isinstance(params, dict):
        return None
    headers = {str(k).lower(): v for k, v in params.items() if isinstance(v, str)}
    if "token" in headers:
        return headers["token"].strip() or None
    return bearer_token(headers)


def authenticate(accounts: Accounts, token: str | None) -> Principal | None:
    """The key's user; None without a key; an AuthError for a key that is not valid."""
    if token is None:
        return None
    principal = accounts.authenticate(token)
    if principal is None:
        raise AuthError(
            "the API key is not valid (unknown, revoked or mistyped): " + CREATE_KEY_HINT,
            "UNAUTHENTICATED",
        )
    return principal


def request_token(context: dict[str, Any]) -> str | None:
    """The key a request carries: its websocket's connection payload, else its header."""
    params = context.get("connection_params")
    if params:
        token = connection_token(params)
        if token is not None:
            return token
    request = context.get("request")
    return bearer_token(getattr(request, "headers", None))


def viewer(info: Info) -> Principal | None:
    """The request's user (None without a key), looked up once per HTTP request and once per
    operation of a websocket (its context lives as long as the connection: a key revoked
    meanwhile is refused at the next subscription)."""
    found = info.context.get("principal", _UNSET)
    if found is _UNSET:
        app: Context = info.context["app"]
        found = authenticate(app.get(Accounts), request_token(info.context))
        if info.context.get("connection_params") is None:
            info.context["principal"] = found
    return found


def require_key(info: Info) -> Principal:
    principal = viewer(info)
    if principal is None:
        raise AuthError("this needs an API key: " + CREATE_KEY_HINT, "UNAUTHENTICATED")
    return principal


def require_admin(info: Info) -> Principal:
    principal = require_key(info)
    if not principal.is_admin:
        raise AuthError(f"only an administrator may do this ({principal.name} is not one)",
                        "FORBIDDEN")  # fmt: skip
    return principal


def public_read(info: Info) -> Principal | None:
    """Market data and analytics: anyone when the server's data is public, else a key."""
    if info.context["app"].settings.public_data:
        return viewer(info)
    return require_key(info)
