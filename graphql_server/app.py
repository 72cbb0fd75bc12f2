"""The ASGI application: GraphQL (with GraphiQL) at /graphql, over HTTP and websockets
(graphql-transport-ws, and the older graphql-ws), and /healthz."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from graphql_server.live import KafkaFeed, LiveHub
from graphql_server.operations.jobs import JobRegistry
from graphql_server.price_store import PriceStore
from graphql_server.schema import Context, build_schema
from graphql_server.store import AnalyticsStore
from streamlines.settings import Settings

log = logging.getLogger(__name__)


class StreamlinesGraphQL(GraphQL):
    def __init__(self, context: Context) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        )
        self.app_context = context

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> dict[str, Any]:
        return {"request": request, "response": response, "app": self.app_context}


def create_app(settings: Settings) -> Starlette:
    context = Context(
        settings=settings,
        store=AnalyticsStore(settings),
        hub=LiveHub(),
        prices=PriceStore(settings),
        jobs=JobRegistry(),
    )
    feed = KafkaFeed(
        context.hub,
        settings.kafka_bootstrap,
        settings.graphql_ripples_topic,
        settings.graphql_prime_records,
    )
    graphql = StreamlinesGraphQL(context)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "kafka_feed": "reading" if feed.connected.is_set() else "waiting",
                "subscriptions": len(context.hub.subscriptions),
                "records_received": context.hub.counters.received,
            }
        )

    async def home(_request: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        feed.start()
        log.info(
            "GraphQL at http://%s:%d/graphql (InfluxDB bucket %s, live topic %s)",
            settings.host,
            settings.graphql_port,
            settings.graphql_analytics_bucket,
            settings.graphql_ripples_topic,
        )
        try:
            yield
        finally:
            context.hub.close()
            feed.stop()
            context.jobs.close()
            context.store.close()
            context.prices.close()

    return Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", health),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        lifespan=lifespan,
    )
