"""Internal errors reach the client masked; the log has them."""

from graphql_server.ripples.live import LiveHub
from graphql_server.ripples.store import AnalyticsStore
from streamlines.settings import Settings
from tests.support.graphql import FakeRipplesStore, execute


def run(query: str, store: FakeRipplesStore | None = None, **variables):
    services = {AnalyticsStore: store or FakeRipplesStore(), LiveHub: LiveHub()}
    return execute(query, services, Settings(graphql_max_range_days=2), **variables)


def test_an_internal_failure_is_masked_for_the_client():
    class Broken(FakeRipplesStore):
        def symbols(self) -> list[str]:
            raise RuntimeError("secret connection string")

    result = run("{ symbols }", Broken())
    assert result.errors[0].message.startswith("internal server error")
