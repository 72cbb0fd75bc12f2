"""The GraphQL schema: the parts of each feature folder (ripples, history, indicators, beacons,
corrections, models, health) and of the jobs, merged into the root types, with the shared
scalars, the limits (depth here, the others in ``graphql_server.limits``) and the masking of
internal errors, and the executor that shares live updates' results (``graphql_server.fanout``).
``graphql_server/schema.graphql`` is its SDL."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from graphql_server.beacons.queries import BeaconsQuery
from graphql_server.beacons.subscriptions import BeaconsSubscription
from graphql_server.corrections.mutations import CorrectionsMutation
from graphql_server.corrections.queries import CorrectionsQuery
from graphql_server.errors import LoggedErrorsSchema
from graphql_server.fanout import FanoutExecutor
from graphql_server.health.queries import HealthQuery
from graphql_server.health.subscriptions import HealthSubscription
from graphql_server.history.mutations import HistoryMutation
from graphql_server.history.queries import HistoryQuery
from graphql_server.indicators.queries import IndicatorsQuery
from graphql_server.indicators.subscriptions import IndicatorsSubscription
from graphql_server.jobs.queries import JobsQuery
from graphql_server.jobs.subscriptions import JobsSubscription
from graphql_server.limits import ClientLimits, DocumentLimits
from graphql_server.models.configs import ConfigsMutation, ConfigsQuery
from graphql_server.models.mutations import ModelsMutation
from graphql_server.models.queries import ModelsQuery
from graphql_server.models.subscriptions import ModelsSubscription
from graphql_server.ripples.queries import RipplesQuery
from graphql_server.ripples.subscriptions import RipplesSubscription
from graphql_server.scalars import SCALARS

MAX_QUERY_DEPTH = 8
SDL_PATH = Path(__file__).with_name("schema.graphql")

Query = merge_types(
    "Query",
    (HistoryQuery, IndicatorsQuery, BeaconsQuery, JobsQuery, CorrectionsQuery, RipplesQuery,
     ModelsQuery, ConfigsQuery, HealthQuery),
)  # fmt: skip
Mutation = merge_types(
    "Mutation", (HistoryMutation, CorrectionsMutation, ModelsMutation, ConfigsMutation)
)
Subscription = merge_types(
    "Subscription",
    (
        JobsSubscription,
        RipplesSubscription,
        BeaconsSubscription,
        ModelsSubscription,
        IndicatorsSubscription,
        HealthSubscription,
    ),
)


def build_schema() -> strawberry.Schema:
    return LoggedErrorsSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=FanoutExecutor,  # live updates executed once per selection
        extensions=[
            ClientLimits,
            lambda: QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH),
            DocumentLimits,
        ],
    )


def print_schema() -> str:
    """The schema's SDL, as ``graphql_server/schema.graphql`` holds it (ending in a newline)."""
    return build_schema().as_str() + "\n"
