"""The ASGI application: GraphQL (with GraphiQL when enabled) at /graphql, over HTTP and
websockets (graphql-transport-ws, and the older graphql-ws), the dashboard at /dashboard/, and
/healthz; ``serve`` runs it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import uvicorn
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from graphql_server.auth import AuthError, authenticate, connection_token
from graphql_server.beacons import live as beacons_live
from graphql_server.beacons.live import BeaconsHub
from graphql_server.beacons.store import BeaconStore
from graphql_server.context import Context
from graphql_server.corrections.store import CorrectionsStore
from graphql_server.dashboard import dashboard_routes
from graphql_server.errors import decode_request_body
from graphql_server.exposure import check_secrets_for
from graphql_server.fanout import SharedResults, encode_message
from graphql_server.health.monitor import HealthMonitor
from graphql_server.history.store import BarStore
from graphql_server.indicators import live as currents_live
from graphql_server.indicators.live import CurrentsHub
from graphql_server.indicators.store import IndicatorStore
from graphql_server.jobs.registry import JobRegistry
from graphql_server.models import live as predictions_live
from graphql_server.models.catalog import ModelCatalog
from graphql_server.models.live import PredictionsHub
from graphql_server.models.store import PredictionStore
from graphql_server.rate_limit import RateLimiter
from graphql_server.ripples import live as ripples_live
from graphql_server.ripples.live import LiveHub
from graphql_server.ripples.store import AnalyticsStore
from graphql_server.schema import build_schema
from graphql_server.subscription_slots import SubscriptionSlots
from graphql_server.websocket_protocol import websocket_protocol
from streamlines.garbage_collection import settle_garbage_collection
from streamlines.metadata.accounts import Accounts
from streamlines.metadata.audit import DeletionAudit
from streamlines.metadata.configs import TrainingConfigs
from streamlines.metadata.database import Database, open_database, safe_url
from streamlines.metadata.jobs import JobStore
from streamlines.metadata.ownership import Ownership
from streamlines.settings import Settings
from streamlines.stack.ports import ensure_port_free

log = logging.getLogger(__name__)

GRAPHIQL_OFF = (
    "GraphiQL is off on this server (STREAMLINES_GRAPHQL_GRAPHIQL; on by default in the local "
    "profile only): POST your queries to this URL"
)


class StreamlinesGraphQL(GraphQL[dict[str, Any], None]):
    def __init__(self, context: Context) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if context.settings.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        )
        self.app_context = context

    def encode_json(self, data: object) -> str:
        """As Strawberry's, except that a live update encoded once for all its subscribers
        (``graphql_server.fanout``) is not encoded again per subscriber."""
        return encode_message(data)

    def decode_json(self, data: str | bytes) -> object:
        """A body that is not UTF-8, nests too deep or is not an object is a 400 with a clear
        message, not a 500 (the fuzz test sends such bodies)."""
        return decode_request_body(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As Strawberry's, except that a request it refuses before any GraphQL (a body that is
        not JSON, no query, GraphiQL asked for while off) gets a GraphQL error as JSON too."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            message = GRAPHIQL_OFF if exc.status_code == 404 else exc.reason
            response = JSONResponse(
                {"data": None, "errors": [{"message": message}]}, status_code=exc.status_code
            )
        await response(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> dict[str, Any]:
        return {"request": request, "response": response, "app": self.app_context}

    async def on_ws_connect(self, context: dict[str, Any]) -> None:
        """Refuse a websocket whose ``connection_init`` carries a key that is not valid (close
        code 4403); one without a key may still subscribe to public data."""
        try:
            token = connection_token(context.get("connection_params"))
            authenticate(self.app_context.get(Accounts), token)
        except AuthError as exc:
            raise ConnectionRejectionError({"message": str(exc)}) from None


def metadata_services(database: Database, job_store: JobStore) -> dict[type, object]:
    """The services over the metadata database, by class (the job store: the one the job
    registry writes to)."""
    return {
        Database: database,
        Accounts: Accounts(database),
        TrainingConfigs: TrainingConfigs(database),
        Ownership: Ownership(database),
        JobStore: job_store,
        DeletionAudit: DeletionAudit(database),
    }


def create_app(settings: Settings) -> Starlette:
    database = open_database(settings)
    job_store = JobStore(database)
    queue = settings.graphql_subscription_queue
    hub = LiveHub(queue)
    predictions_hub = PredictionsHub(queue)
    beacons_hub = BeaconsHub(queue)
    currents_hub = CurrentsHub(queue)
    health_monitor = HealthMonitor(settings)
    jobs = JobRegistry(store=job_store, max_running=settings.graphql_max_running_jobs)
    jobs.mark_interrupted()  # what the last server left queued or running (logged)
    stores = [
        AnalyticsStore(settings),
        BarStore(settings),
        IndicatorStore(settings),
        BeaconStore(settings),
        CorrectionsStore(settings),
        PredictionStore(settings),
    ]
    services: dict[type, object] = {
        LiveHub: hub,
        PredictionsHub: predictions_hub,
        BeaconsHub: beacons_hub,
        CurrentsHub: currents_hub,
        HealthMonitor: health_monitor,
        JobRegistry: jobs,
        ModelCatalog: ModelCatalog(settings),
        # the per-client limits (graphql_server.limits)
        RateLimiter: RateLimiter(settings.graphql_rate_limit_per_minute),
        SubscriptionSlots: SubscriptionSlots(settings.graphql_max_subscriptions),
    }
    shared_results = SharedResults() if settings.graphql_shared_execution else None
    if shared_results is not None:
        services[SharedResults] = shared_results
    services.update({type(store): store for store in stores})
    services.update(metadata_services(database, job_store))
    context = Context(settings, services)
    feed = ripples_live.feed(
        hub,
        settings,
        settings.graphql_ripples_topic,
        settings.graphql_prime_records,
    )
    predictions_feed = predictions_live.feed(
        predictions_hub,
        settings,
        settings.predictions_topic,
        settings.graphql_prime_records,
    )
    beacons_feed = beacons_live.feed(
        beacons_hub,
        settings,
        settings.beacons_topic,
        settings.graphql_prime_records,
    )
    currents_feed = currents_live.feed(
        currents_hub,
        settings,
        settings.graphql_currents_topic,
        settings.graphql_prime_records,
    )
    graphql = StreamlinesGraphQL(context)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "kafka_feed": "reading" if feed.connected.is_set() else "waiting",
                "subscriptions": len(hub.subscriptions),
                "records_received": hub.counters.received,
                "shared_execution": None
                if shared_results is None
                else asdict(shared_results.counters),
                "predictions_feed": "reading" if predictions_feed.connected.is_set() else "waiting",
                "predictions_received": predictions_hub.counters.received,
                "beacons_feed": "reading" if beacons_feed.connected.is_set() else "waiting",
                "beacons_received": beacons_hub.counters.received,
                "currents_feed": "reading" if currents_feed.connected.is_set() else "waiting",
                "currents_received": currents_hub.counters.received,
            }
        )

    async def home(_request: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        feed.start()
        predictions_feed.start()
        beacons_feed.start()
        currents_feed.start()
        log.info(
            "GraphQL at http://%s:%d/graphql, the dashboard at /dashboard/ (InfluxDB bucket "
            "%s, live topics %s, %s, %s and %s, models in %s, metadata in %s)",
            settings.graphql_listen_host,
            settings.graphql_port,
            settings.graphql_analytics_bucket,
            settings.graphql_ripples_topic,
            settings.predictions_topic,
            settings.beacons_topic,
            settings.graphql_currents_topic,
            settings.model_store_dir,
            safe_url(database.url),
        )
        try:
            yield
        finally:
            hub.close()
            predictions_hub.close()
            beacons_hub.close()
            currents_hub.close()
            feed.stop()
            predictions_feed.stop()
            beacons_feed.stop()
            currents_feed.stop()
            health_monitor.close()
            jobs.close()
            for store in stores:
                store.close()
            database.close()

    return Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", health),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *dashboard_routes(settings),
        ],
        lifespan=lifespan,
    )


def serve(settings: Settings, log_level: str) -> None:
    """Serve the app at the settings' host and GraphQL port until Ctrl-C (refused, before
    anything binds, with a default secret on a non-loopback address)."""
    check_secrets_for(settings)
    ensure_port_free(
        settings.graphql_listen_host,
        settings.graphql_port,
        "the GraphQL server",
        "STREAMLINES_GRAPHQL_PORT",
    )
    app = create_app(settings)
    settle_garbage_collection()
    uvicorn.run(
        app,
        host=settings.graphql_listen_host,
        port=settings.graphql_port,
        log_level=log_level,
        ws=websocket_protocol(settings.graphql_websocket_send_buffer),
        ws_per_message_deflate=settings.graphql_websocket_compression,
        log_config=None,
    )
