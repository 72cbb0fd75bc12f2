"""Flux queries for the GraphQL server, with InfluxDB's failures turned into clear errors.

Every Flux query the server runs is a constant; what a client sent reaches InfluxDB only as
query parameters (``params=``, which InfluxDB binds as values), never pasted into the Flux text.
"""

from __future__ import annotations

import logging
from typing import Any

from influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from graphql_server.errors import BackendUnavailable
from streamlines.settings import Settings

log = logging.getLogger(__name__)


def influx_client(settings: Settings) -> InfluxDBClient:
    return InfluxDBClient(
        url=settings.influx_url,
        token=settings.influx_token.get_secret_value(),
        org=settings.influx_org,
        timeout=30_000,
    )


class FluxRunner:
    def __init__(self, client: InfluxDBClient, url: str) -> None:
        self.url = url
        self._query = client.query_api()

    def run(self, flux: str, params: dict[str, Any], bucket: str) -> Any:
        """The result tables of ``flux`` with ``params`` bound; ``bucket`` names the bucket
        the query reads, for the error message when it does not exist."""
        try:
            return self._query.query(flux, params=params)
        except ApiException as exc:
            if exc.status == 404:
                raise BackendUnavailable(
                    f"InfluxDB has no bucket {bucket!r}: start the stack (`streamlines stack "
                    "up`) or set the server's bucket settings (STREAMLINES_GRAPHQL_ANALYTICS_"
                    "BUCKET, STREAMLINES_GATHER_BUCKET)"
                ) from None
            log.warning("InfluxDB refused a query: %s %s", exc.status, exc.body)
            raise BackendUnavailable(
                f"InfluxDB refused the query ({exc.status}); see the server log"
            ) from None
        except (HTTPError, OSError) as exc:
            log.warning("InfluxDB at %s did not answer: %s", self.url, exc)
            raise BackendUnavailable(
                f"InfluxDB at {self.url} did not answer: start it with `streamlines stack up`"
            ) from None
