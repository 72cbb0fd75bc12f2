"""The replay server as one ASGI app: websocket streams, historical REST (Alpaca's bars, trades,
quotes and corporate actions; Nasdaq Data Link's fundamentals), control endpoint."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Router, WebSocketRoute

from connectors.replay.control import Control
from connectors.replay.corporate_actions import CorporateActionsApi
from connectors.replay.fundamentals import NasdaqDataLinkApi
from connectors.replay.rest import HistoricalApi
from connectors.replay.state import ServerState
from connectors.replay.ws import crypto_stream, stock_stream


def build_app(state: ServerState) -> Starlette:
    alpaca = HistoricalApi(state)
    routes = [
        WebSocketRoute("/v2/{feed}", stock_stream),
        WebSocketRoute("/v1beta3/crypto/us", crypto_stream),
        *alpaca.routes(),
        *CorporateActionsApi(alpaca).routes(),
        *NasdaqDataLinkApi(state).routes(),
        *Control(state).routes(),
    ]
    app = Starlette(routes=routes)
    # Alpaca never redirects and alpaca-py refuses to follow redirects.
    assert isinstance(app.router, Router)
    app.router.redirect_slashes = False
    app.state.replay = state
    return app
