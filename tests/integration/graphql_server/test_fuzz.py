"""A property-based fuzz of the GraphQL server, generated from its schema (hypothesis-graphql,
derandomized: the same requests on every run): thousands of queries and mutations with hostile
values in every argument (Flux and SQL fragments, huge numbers, unicode, NUL, nulls; see
tests/support/graphql_fuzz.py), to a real server on the real stack with stores of its own:
GOOG's bars and indicators, a shared model with a backtest, bob's private model, a metadata
database with users and keys.

Every answer: HTTP status below 500, JSON with data or errors, no stack trace, every error a
clear message, no internal error (tests/support/fuzz_checks.py); alice's answers never hold
bob's model. Queries go with alice's key and without one; mutations only without a key or with
a revoked or forged one (a valid key would start real jobs), and each must be refused
(UNAUTHENTICATED, or the document refused). Nothing changes: the metadata database, the buckets'
points, the model folder and the output topics are the same afterwards. The counts (requests,
errors by kind) go to the test log."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import graphql
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from influxdb_client import InfluxDBClient

from ml import service
from ml.config import parse_config
from streamlines.child import graphql_server_process
from streamlines.metadata.accounts import Accounts
from streamlines.metadata.database import open_database
from streamlines.metadata.ownership import Ownership
from streamlines.settings import Settings
from tests.support.fuzz_checks import Tally, error_kind
from tests.support.graphql_fuzz import operations, server_schema, with_variables
from tests.support.metadata import Keys
from tests.support.ml_stores import fill_goog_stores, store_env
from tests.support.stored_state import files, metadata_rows, points, topic_records

QUERIES_WITH_KEY = 1500
QUERIES_WITHOUT_KEY = 700
MUTATIONS = 800
FUZZ = hypothesis_settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
REFUSED_MUTATION_KINDS = {"UNAUTHENTICATED", "syntax", "variables", "document"}
# Small and quick (under a second): the fuzz needs models to ask for, not good ones.
CONFIG = {
    "symbols": ["GOOG"],
    "start": "2010-01-01",
    "end": "2012-06-01",
    "label": {"kind": "classification", "horizon": 5},
    "hyperparameters": {"num_round": 10, "max_depth": 2, "eta": 0.3},
    "splits": {"folds": 2, "min_train_fraction": 0.5},
}


@dataclass(frozen=True)
class FuzzTarget:
    url: str
    keys: Keys
    revoked: str
    stores: Settings
    log: Path
    output_topics: tuple[str, ...]
    known_ids: tuple[str, ...]  # the shared model, its backtest, bob's model
    bobs_model: str


def seed_models(stores: Settings, keys: Keys) -> tuple[str, str, str]:
    """A shared model (no owner) with a backtest, and bob's model: their ids."""
    shared = service.train_model(stores, parse_config({**CONFIG, "name": "shared"})).model_id
    backtest = service.backtest_model(
        stores, shared, datetime(2012, 6, 1, tzinfo=UTC), datetime(2013, 1, 1, tzinfo=UTC), None
    ).backtest_id
    bobs = service.train_model(stores, parse_config({**CONFIG, "name": "bobs"})).model_id
    database = open_database(Settings(database_url=keys.url))
    bob = Accounts(database).authenticate(keys.bob)
    assert bob is not None
    Ownership(database).record_model(bobs, bob.user_id)
    return shared, backtest, bobs


@pytest.fixture
def target(
    influx: InfluxDBClient,
    make_bucket: Callable[[str], str],
    settings: Settings,
    unique_name: str,
    sqlite_keys: Keys,
    tmp_path: Path,
) -> Iterator[FuzzTarget]:
    stores = fill_goog_stores(influx, make_bucket, settings, unique_name, tmp_path / "models")
    known_ids = seed_models(stores, sqlite_keys)
    accounts = Accounts(open_database(Settings(database_url=sqlite_keys.url)))
    revoked = accounts.create_key("alice", "revoked").secret
    accounts.revoke_key(revoked)
    output_topics = (f"{unique_name}.history", f"{unique_name}.currents",
                     stores.predictions_topic)  # fmt: skip
    env = {
        **store_env(stores),
        "STREAMLINES_DATABASE_URL": sqlite_keys.url,
        "STREAMLINES_GATHER_TOPIC": output_topics[0],
        "STREAMLINES_GRAPHQL_CURRENTS_TOPIC": output_topics[1],
        "STREAMLINES_GRAPHQL_PUBLIC_DATA": "true",
        # Generous limits: the fuzz is about the answers, not the limiters' refusals (the
        # query cost is still computed for every document, and huge `limit`s still exceed it).
        "STREAMLINES_GRAPHQL_RATE_LIMIT_PER_MINUTE": "1000000",
        "STREAMLINES_GRAPHQL_MAX_QUERY_COST": "1000000000",
        "STREAMLINES_GRAPHQL_MAX_RUNNING_JOBS": "1000",
        "STREAMLINES_GRAPHQL_MAX_SUBSCRIPTIONS": "1000",
    }
    log = tmp_path / "graphql.log"
    with graphql_server_process(env, log_path=log) as url:
        yield FuzzTarget(url, sqlite_keys, revoked, stores, log, output_topics, known_ids,
                         bobs_model=known_ids[2])  # fmt: skip


class Connection:
    """One keep-alive HTTP connection to the server (opened again if the server closes it)."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self._http = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def post(self, body: bytes, authorization: str | None) -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        for attempt in range(2):
            try:
                self._http.request("POST", self.path, body, headers)
                response = self._http.getresponse()
                return response.status, response.read().decode("utf-8", "replace")
            except (http.client.HTTPException, ConnectionError):
                self._http.close()
                self._http = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._http.close()


def request_body(document: graphql.DocumentNode, as_variables: bool,
                 schema: graphql.GraphQLSchema) -> bytes:  # fmt: skip
    """The document as written, or with its arguments' values as variables."""
    if as_variables:
        text, variables = with_variables(document, schema)
        return json.dumps({"query": text, "variables": variables}).encode()
    return json.dumps({"query": graphql.print_ast(document)}).encode()


def bearer(key: str) -> str:
    return f"Bearer {key}"


def forged_authorizations(keys: Keys, revoked: str) -> list[str | None]:
    """No key, a revoked key, and keys that are not keys (refused just the same)."""
    flipped = keys.alice[:-1] + ("A" if keys.alice[-1] != "A" else "B")
    return [None, bearer(revoked), bearer(flipped), bearer("sl_0000000000_" + "A" * 43),
            bearer("' OR '1'='1"), bearer(keys.alice.replace("sl_", "sl_x", 1)),
            f"Basic {keys.alice}", "Bearer", "Bearer " + "A" * 10_000]  # fmt: skip


def mutation_refused(answer: dict[str, Any], errors: list[dict[str, Any]]) -> bool:
    """Every root field null, and only refusals: no key, or a document that never ran."""
    data = answer.get("data")
    ran = isinstance(data, dict) and any(value is not None for value in data.values())
    return not ran and bool(errors) and all(error_kind(e) in REFUSED_MUTATION_KINDS for e in errors)


# Requests no schema generates: malformed bodies and documents built to exhaust the parser.
MALFORMED = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'[{"query": "{ symbols }"}]',
    b'{"query": 5}',
    b'{"query": null}',
    b'{"query": "{ symbols }", "variables": [1]}',
    b'{"query": "{ symbols }", "operationName": "nope"}',
    b'{"query": "\\u0000"}',
    b'{"query": "{ symbols }", "extensions": "x"}',
    b'{"query": "\xff\xfe{ symbols }"}',  # not UTF-8
    json.dumps({"query": "{ " + "symbols " * 50_000 + "}"}).encode(),
    json.dumps({"query": "{ " + "a: symbols " * 5_000 + "}"}).encode(),
    json.dumps({"query": "{ " + "models { " * 3_000 + "id" + " }" * 3_000 + " }"}).encode(),
    b'{"query": "mutation($c: JSON!) { trainModel(config: $c) { id } }", "variables": {"c": '
    + b"[" * 5_000 + b"]" * 5_000 + b"}}",
    json.dumps({"query": "mutation { trainModel(config: " + "[" * 5_000 + "]" * 5_000
                + ") { id } }"}).encode(),
    json.dumps({"query": "fragment A on Query { ...A } { ...A }"}).encode(),
    json.dumps({"query": "{ __schema { types { name fields { name args { name } } } } }"}).encode(),
    json.dumps({"query": '{ series(symbol: "GOOG", start: "2012-01-03") { symbol } }' * 2})
    .encode(),
]  # fmt: skip


class Fuzz:
    """Sends requests over one connection and checks each answer into the tally."""

    def __init__(self, target: FuzzTarget) -> None:
        self.target = target
        self.tally = Tally()
        self.connection = Connection(target.url)

    def send(self, phase: str, body: bytes,
             authorization: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:  # fmt: skip
        status, text = self.connection.post(body, authorization)
        request = body.decode(errors="replace")
        shown = f"[{phase}, Authorization: {(authorization or 'none')[:12]}...] {request}"
        errors = self.tally.check(phase, shown, status, text)
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        if self.target.bobs_model in json.dumps(answer.get("data")):
            self.tally.breach("bob's model in an answer to someone else", shown, text)
        return answer, errors


def test_hostile_requests_get_clear_answers_and_change_nothing(
    target: FuzzTarget,
    influx: InfluxDBClient,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema = server_schema()
    before = stored_state(target, influx, settings)
    fuzz = Fuzz(target)
    alice = bearer(target.keys.alice)
    started = time.monotonic()

    for body in MALFORMED:
        fuzz.send("malformed", body, alice)

    queries = operations("query", target.known_ids)

    @hypothesis_settings(FUZZ, max_examples=QUERIES_WITH_KEY)
    @given(queries, st.booleans())
    def queries_with_key(document: graphql.DocumentNode, as_variables: bool) -> None:
        fuzz.send("queries with a key", request_body(document, as_variables, schema), alice)

    @hypothesis_settings(FUZZ, max_examples=QUERIES_WITHOUT_KEY)
    @given(queries, st.booleans())
    def queries_without_key(document: graphql.DocumentNode, as_variables: bool) -> None:
        fuzz.send("queries without a key", request_body(document, as_variables, schema), None)

    @hypothesis_settings(FUZZ, max_examples=MUTATIONS)
    @given(operations("mutation", target.known_ids), st.booleans(),
           st.sampled_from(forged_authorizations(target.keys, target.revoked)))  # fmt: skip
    def mutations(document: graphql.DocumentNode, as_variables: bool,
                  authorization: str | None) -> None:  # fmt: skip
        body = request_body(document, as_variables, schema)
        answer, errors = fuzz.send("mutations without a valid key", body, authorization)
        if not mutation_refused(answer, errors):
            fuzz.tally.breach("mutation not refused", body.decode(), json.dumps(answer))

    queries_with_key()
    queries_without_key()
    mutations()
    fuzz.connection.close()
    seconds = time.monotonic() - started
    after = stored_state(target, influx, settings)

    tally = fuzz.tally
    logged = target.log.read_text(errors="replace").count("Traceback")
    if logged:
        tally.breach("traceback in the server log", str(target.log), f"{logged} of them")
    with capsys.disabled():  # into the test log, passed or failed, with or without -s
        print("\n" + "\n".join([*tally.report(seconds), stored_summary(before)]))
    assert sum(tally.sent.values()) == len(MALFORMED) + QUERIES_WITH_KEY + QUERIES_WITHOUT_KEY \
        + MUTATIONS  # fmt: skip
    assert after == before
    assert not tally.breaches, "\n".join(tally.report(seconds))


def stored_state(target: FuzzTarget, influx: InfluxDBClient, settings: Settings) -> dict[str, Any]:
    """Everything a request could change: the metadata database's rows, the points of each
    bucket the server reads or writes, the model folder's files, the output topics' records."""
    stores = target.stores
    buckets = (stores.gather_bucket, stores.graphql_analytics_bucket, stores.predictions_bucket)
    return {
        "metadata": metadata_rows(target.keys.url),
        "points": {bucket: points(influx, bucket) for bucket in buckets},
        "models": files(stores.model_store_dir),
        "topics": topic_records(settings.kafka_bootstrap, target.output_topics),
    }


def stored_summary(state: dict[str, Any]) -> str:
    rows = sum(len(table) for table in state["metadata"].values())
    return (
        f"  unchanged afterwards: {rows} metadata rows, "
        f"{sum(state['points'].values()):,} points in {len(state['points'])} buckets, "
        f"{len(state['models'])} files in the model folder, "
        f"{sum(state['topics'].values())} records in the output topics"
    )
