"""The one settings object: environment variables (prefix ``STREAMLINES_``) and a ``.env`` file.

Build it in ``main()`` (``Settings()``), never at import time, and pass it down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamlines.contracts.influx import BUCKET_PREDICTIONS, BUCKETS
from streamlines.contracts.topics import (
    TOPIC_BARS,
    TOPIC_BARS_HISTORY,
    TOPIC_BEACONS,
    TOPIC_CURRENTS,
    TOPIC_FUNDAMENTALS,
    TOPIC_PREDICTIONS,
    TOPIC_QUOTES,
    TOPIC_RIPPLES,
    TOPIC_TRADES,
)
from streamlines.errors import UserError

# The secrets with a built-in default (the local stack's, public in this source): refused in the
# production profile, and by a GraphQL server on a non-loopback address.
DEFAULT_SECRET_SETTINGS = ("influx_password", "influx_token", "postgres_password")


def _default_home() -> Path:
    return Path.home() / ".cache" / "streamlines"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STREAMLINES_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # Which defaults apply. "local" (the local stack on this machine): market data and
    # analytics readable without a key, GraphiQL on, the built-in local passwords accepted.
    # "production": every default secret is refused, GraphiQL and public data are off unless
    # enabled. The GraphQL server refuses a default secret on a non-loopback address whatever
    # the profile.
    profile: Literal["local", "production"] = "local"

    # Where built binaries, downloaded jars and the uv cache live (reused across runs).
    home: Path = Field(default_factory=_default_home)
    # Where the local stack keeps its data, logs and pid files; defaults to <home>/stack.
    stack_dir: Path | None = None
    # The local stack's address: its services listen on it, and every address below that is
    # not set is built from it and the service's port.
    host: str = "127.0.0.1"
    # Where each service is, for a stack that is not all on `host` (a cluster, containers):
    # Kafka's bootstrap servers (comma-separated host:port), InfluxDB's URL, Flink's REST URL,
    # the Kinesis endpoint URL ("aws": real AWS, boto3's endpoint and credential chain), the
    # replay server's and the GraphQL server's URL (the latter with /graphql).
    kafka_address: str | None = None
    influx_address: str | None = None
    flink_address: str | None = None
    kinesis_address: str | None = None
    replay_address: str | None = None
    graphql_address: str | None = None
    # Where the GraphQL server and the replay server listen (default: host).
    graphql_bind: str | None = None
    replay_bind: str | None = None

    # Kafka (single node, KRaft).
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    # Partitions of the topics the project creates (market.*, their dead-letter topics).
    kafka_topic_partitions: int = 1
    # How every client reaches Kafka (the project's own and the Flink jobs'): PLAINTEXT (the
    # local stack), SSL, SASL_PLAINTEXT or SASL_SSL. SASL: the mechanism, user and password.
    # TLS: the CA that signed the brokers' certificates (PEM; default: the system's) and, for
    # brokers that ask for a client certificate, the client's certificate and key (PEM; the
    # key may be in the certificate file). See docs/cluster.md, "Secured Kafka and InfluxDB".
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None

    # InfluxDB 2.x.
    influx_port: int = 8086
    influx_org: str = "streamlines"
    influx_username: str = "streamlines"
    influx_password: SecretStr = SecretStr("streamlines-local")
    influx_token: SecretStr = SecretStr("streamlines-local-token")
    influx_buckets: tuple[str, ...] = BUCKETS
    # An https STREAMLINES_INFLUX_ADDRESS: the CA that signed InfluxDB's certificate (PEM;
    # default: the system's), or no verification at all (a self-signed certificate in a test).
    influx_ssl_ca_cert: Path | None = None
    influx_verify_ssl: bool = True
    # Shard group length (seconds) of buckets that hold years of history; the others keep
    # InfluxDB's default (7 days when data is kept forever). At 7 days a write of backfilled
    # bars spanning years touches hundreds of shards and times out; at 10 years it is fast.
    # `analytics` holds years of indicators of daily bars (currents) next to the recent
    # ripples: one-year shard groups.
    influx_shard_group_seconds: dict[str, int] = {
        "market": 3650 * 86_400,
        "analytics": 365 * 86_400,
    }

    # Flink standalone cluster (from the PyFlink distribution).
    flink_rest_port: int = 8081
    flink_rpc_port: int = 6123
    # TaskManager processes (each with flink_taskmanager_slots slots and
    # flink_taskmanager_memory): the first is `flink-taskmanager`, the others
    # `flink-taskmanager-2`, ... (docs/cluster.md, "Scaling out").
    flink_taskmanagers: int = Field(default=1, ge=1)
    flink_taskmanager_slots: int = 2
    flink_jobmanager_memory: str = "1024m"
    flink_taskmanager_memory: str = "1600m"

    # Kinesis emulator (kinesis-mock from npm); plain HTTP port.
    kinesis_port: int = 4568
    kinesis_tls_port: int = 4567
    aws_region: str = "us-east-1"

    # AWS for Narwhal's SageMaker backend: "local" = the local stack's emulator (service `aws`,
    # moto in server mode at http://<host>:<aws_port>: S3 and SageMaker's API, dummy
    # credentials); "aws" = real AWS (boto3's usual credential chain); or the http(s) URL of
    # another emulator.
    aws_endpoint: str = "local"
    aws_port: int = 4569
    # SageMaker training jobs: the role they run as (a dummy ARN is enough for the emulator),
    # the bucket of their data and models, the instance, the built-in XGBoost image version
    # (3.x: its models are UBJSON, which xgboost 3 reads; 1.x containers wrote a format it
    # cannot) and how long a job may take before Narwhal gives up waiting (seconds).
    sagemaker_role_arn: str = "arn:aws:iam::123456789012:role/streamlines-sagemaker"
    sagemaker_bucket: str = "streamlines-models"
    sagemaker_instance_type: str = "ml.m5.large"
    sagemaker_xgboost_version: str = "3.0-5"
    sagemaker_timeout: float = 3600.0

    @field_validator("aws_endpoint")
    @classmethod
    def _aws_endpoint(cls, value: str) -> str:
        if value in ("local", "aws") or value.startswith(("http://", "https://")):
            return value.rstrip("/")
        raise ValueError(
            f"{value!r}: use `local` (the local stack's emulator), `aws` (real AWS) or an "
            "http(s):// URL"
        )

    # Seconds a service gets to become healthy after it starts.
    start_timeout: float = 120.0

    # Alpaca. With keys set, connectors use the live feed; without, the local replay server.
    alpaca_api_key: SecretStr | None = None
    alpaca_secret_key: SecretStr | None = None
    replay_port: int = 8765
    # Replay pace: 1 = real time, 60 = a replayed minute per second, "max" = as fast as read.
    replay_speed: str = "60"
    replay_start: str = "2012-01-03T14:30:00Z"

    # Ingest: what `streamlines ingest` subscribes to and where it produces.
    ingest_symbols: tuple[str, ...] = ("GOOG", "SP500", "NASDAQ")
    ingest_crypto: tuple[str, ...] = ("BTC/USD",)
    ingest_feed: str = "iex"  # iex or sip (live Alpaca); any replay feed locally
    ingest_sink: str = "kafka"  # kafka or kinesis
    ingest_topic_trades: str = TOPIC_TRADES
    ingest_topic_quotes: str = TOPIC_QUOTES
    ingest_topic_bars: str = TOPIC_BARS
    # Records that may await the broker's acknowledgement before ingest blocks (back-pressure).
    ingest_max_in_flight: int = 10_000
    # Seconds ingest waits on a full buffer before it stops with an error.
    ingest_block_timeout: float = 60.0
    # Kinesis: a batch that is not full (500 records) is written at the latest this many
    # seconds after its first record.
    ingest_kinesis_linger_seconds: float = 0.5
    # Kinesis: a symbol's records strictly in order, retries included (at most one record per
    # symbol in each PutRecords request: few symbols mean many small requests); false sends
    # full 500-record requests, and a retried record may follow a later one of its symbol.
    ingest_kinesis_ordered: bool = True
    # A lost websocket: reconnect attempts wait at most this long (seconds; alpaca-py's own
    # backoff, which starts at 0.5-1 s), and the gap is backfilled from the historical REST
    # API (trades de-duplicated by trade id, quotes strictly inside the gap) unless off.
    ingest_reconnect_max_backoff: float = 2.0
    ingest_backfill: bool = True
    # Event times ingest accepts: at most this far ahead of the wall clock, and at most this far
    # behind the newest event of the same symbol (seconds); others go to the dead-letter topic.
    ingest_max_ahead_seconds: float = 300.0
    ingest_max_behind_seconds: float = 3600.0
    # How long (event time) ingest remembers a symbol's trade ids to refuse a repeated one.
    ingest_trade_id_memory_seconds: float = 3600.0

    # Gather (`streamlines gather`): historical bars from Alpaca's REST API (or the replay server)
    # into InfluxDB and Kafka.
    gather_symbols: tuple[str, ...] = ("GOOG", "SP500", "NASDAQ")
    gather_bucket: str = "market"
    gather_topic: str = TOPIC_BARS_HISTORY
    # Stock feed for live Alpaca (iex, sip, ...); None = Alpaca's default for the account.
    gather_feed: str | None = None
    # Symbols fetched at the same time (each on its own HTTP connection).
    gather_concurrency: int = 4
    # Processes a gather spreads its symbols over (one is CPU-bound at about one core).
    gather_processes: int = 1
    # Retries of a request answered 429 or 5xx, and the waits between them (seconds): the
    # server's Retry-After / X-RateLimit-Reset when given, else exponential from the initial
    # wait; never longer than the maximum.
    gather_max_retries: int = 8
    gather_backoff_initial: float = 1.0
    gather_backoff_max: float = 60.0
    gather_request_timeout: float = 60.0

    # Fundamentals (`streamlines gather fundamentals`, jobs/beacons). The S&P 500's monthly
    # series and companies' earnings announcements from Nasdaq Data Link's API (formerly
    # Quandl: datasets MULTPL/*, datatable ZACKS/EA), dividends and splits from Alpaca's
    # corporate actions. Without a Nasdaq Data Link key, the local replay server plays both.
    nasdaq_data_link_api_key: SecretStr | None = None
    nasdaq_data_link_url: str = "https://data.nasdaq.com"
    fundamentals_topic: str = TOPIC_FUNDAMENTALS
    fundamentals_bucket: str = "market"
    # The symbol whose fundamentals are the index's (Nasdaq Data Link's MULTPL S&P 500 series),
    # and against which beacons measures abnormal returns.
    index_symbol: str = "SP500"
    # Days after a monthly series' date before its value counts as known (0: from its date,
    # as Shiller's series is usually read; a real-time reader would wait about a month).
    fundamentals_publication_lag_days: int = 0
    beacons_topic: str = TOPIC_BEACONS

    # The metadata database: users, API keys, training configs, models' and backtests' owners,
    # jobs, the deletion audit. None: SQLite in <home>/streamlines.db (embedded, nothing to
    # start). A PostgreSQL URL, e.g. postgresql+psycopg://user:password@host:5432/db (the local
    # stack's: `streamlines stack env`), for a shared server. Migrated (Alembic) on first use.
    database_url: str | None = None
    # The local stack's PostgreSQL (service `postgres`, Debian's package, run natively). Not
    # 5432: a system PostgreSQL may hold it.
    postgres_port: int = 5433
    postgres_user: str = "streamlines"
    postgres_password: SecretStr = SecretStr("streamlines-local")
    postgres_db: str = "streamlines"
    # The browser the dashboard's page tests drive (Playwright over CDP, no browser download):
    # Debian's chromium, which `make test` installs when it is missing (`streamlines stack
    # browser`).
    chromium: Path = Path("/usr/bin/chromium")

    # GraphQL server (`streamlines graphql serve`): where it listens, what it reads, its limits.
    graphql_port: int = 8000
    graphql_analytics_bucket: str = "analytics"
    graphql_ripples_topic: str = TOPIC_RIPPLES
    # The longest time range one query may ask for, and the most points it may return.
    graphql_max_range_days: float = 31.0
    graphql_max_points: int = 100_000
    # The most bars `series(maxPoints:)` may read to downsample (it returns at most
    # graphql_max_points): 600,000 is more than a year of 1-minute bars of a 24/7 market.
    graphql_max_source_bars: int = 600_000
    # Records per partition read back from the end of the ripples topic at start, so that a
    # new subscription gets the latest value of each symbol and metric at once.
    graphql_prime_records: int = 20_000
    # Where a recompute after `deleteBars` publishes the corrected indicators, and the options
    # of the currents job that made them (periods: the same the running job was started with,
    # e.g. ["--sma", "10,30"]; none = the job's defaults).
    graphql_currents_topic: str = TOPIC_CURRENTS
    graphql_currents_args: tuple[str, ...] = ()
    # Access. Public data: market data and analytics readable without a key (None: on in the
    # local profile, off in production). Every mutation, and all that users own (configs,
    # models, backtests, jobs), needs `Authorization: Bearer <key>` whatever this says.
    graphql_public_data: bool | None = None
    # GraphiQL in the browser at /graphql (None: on in the local profile, off in production).
    graphql_graphiql: bool | None = None
    # Per key (or per client address without one): requests per minute (a token bucket of
    # this size, refilled evenly), jobs queued or running at once, open subscriptions.
    graphql_rate_limit_per_minute: int = 600
    graphql_max_running_jobs: int = 2
    graphql_max_subscriptions: int = 20
    # Updates that may wait for one subscription's client (its queue). A client that falls this
    # far behind gets its subscription ended with an error saying so; the other subscribers are
    # not held up and the server's memory stays bounded. A client that stops reading altogether
    # is also closed by the websocket keepalive (a ping every 20 s, 20 s to answer).
    graphql_subscription_queue: int = Field(default=10_000, ge=1)
    # Bytes of updates the kernel may hold for one websocket client (SO_SNDBUF; Linux doubles
    # it) before the server's sends to it wait and its subscriptions' queues fill. 0: the
    # kernel's autotuning, which lets a client that stops reading hold up to 4 MiB
    # (graphql_server/websocket_protocol.py).
    graphql_websocket_send_buffer: int = Field(default=65_536, ge=0)
    # permessage-deflate on the websocket when the client offers it (browsers do). Off: each
    # connection would deflate every update itself, after the fan-out encoded it once for all;
    # with 1,000 browser-like subscribers p99 went from ~250 to 470-815 ms and the messages the
    # server got out fell by half or more (benchmarks/fanout.py --compression, docs/graphql.md).
    # On for clients on slow links.
    graphql_websocket_compression: bool = False
    # Live subscriptions: each update's selection executed and JSON-encoded once for all the
    # subscribers asking for the same fields (graphql_server/fanout.py); off: once per
    # subscriber, as graphql-core does (the fan-out benchmark's baseline).
    graphql_shared_execution: bool = True
    # Per query: its cost (each field 1, times the `limit`/list sizes it asks for, see
    # graphql_server/query_cost.py) and its aliases. 200,000: a 20,000-bar series of ten
    # fields, or models with their backtests, pass; nesting lists in lists to blow up the work
    # does not (the points each query returns are capped by graphql_max_points anyway).
    graphql_max_query_cost: int = 200_000
    graphql_max_aliases: int = 20
    # pipelineHealth: the subscription asks Kafka and Flink every poll seconds and sends when
    # something changed, and at least every heartbeat seconds.
    graphql_health_poll_seconds: float = 3.0
    graphql_health_heartbeat_seconds: float = 30.0
    # The dashboard's built assets, served at /dashboard/ (None: the repository's
    # dashboard/dist, built by `make dashboard`).
    dashboard_dir: Path | None = None

    # Narwhal (`streamlines ml`): where models are kept, where predictions go.
    models_dir: Path | None = None  # default: <home>/models
    # local: models in models_dir; s3: on S3 (the `aws` endpoint's) at
    # s3://<models_s3_bucket>/<models_s3_prefix>/<model id>/model.tar.gz, cached in models_dir.
    model_store: Literal["local", "s3"] = "local"
    models_s3_bucket: str = "streamlines-models"
    models_s3_prefix: str = "narwhal/models"
    predictions_bucket: str = BUCKET_PREDICTIONS
    predictions_topic: str = TOPIC_PREDICTIONS

    @model_validator(mode="after")
    def _kafka_security(self) -> Self:
        problem = kafka_security_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _influx_tls(self) -> Self:
        problem = influx_tls_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Self:
        defaults = self.default_secrets() if self.profile == "production" else []
        if defaults:
            raise ValueError(
                f"{', '.join(defaults)} {'is' if len(defaults) == 1 else 'are'} the local "
                f"stack's default{'' if len(defaults) == 1 else 's'}: set a secret of your own "
                "for the production profile"
            )
        return self

    def default_secrets(self) -> list[str]:
        """The variables whose secret is still the built-in default (the local stack's), by
        name, e.g. STREAMLINES_INFLUX_TOKEN (and the database URL's password)."""
        found = [
            f"STREAMLINES_{name.upper()}"
            for name in DEFAULT_SECRET_SETTINGS
            if getattr(self, name).get_secret_value()
            == type(self).model_fields[name].default.get_secret_value()
        ]
        default_postgres = type(self).model_fields["postgres_password"].default
        if self.database_url and _url_password(self.database_url) == (
            default_postgres.get_secret_value()
        ):
            found.append("STREAMLINES_DATABASE_URL's password")
        return found

    @property
    def local_profile(self) -> bool:
        return self.profile == "local"

    @property
    def public_data(self) -> bool:
        return self.local_profile if self.graphql_public_data is None else self.graphql_public_data

    @property
    def graphiql(self) -> bool:
        return self.local_profile if self.graphql_graphiql is None else self.graphql_graphiql

    @property
    def metadata_url(self) -> str:
        """The metadata database's SQLAlchemy URL (``database_url``, else SQLite in home)."""
        return self.database_url or f"sqlite:///{self.home / 'streamlines.db'}"

    @property
    def postgres_url(self) -> str:
        """The local stack's PostgreSQL database, as a SQLAlchemy URL (psycopg 3)."""
        password = self.postgres_password.get_secret_value()
        return (
            f"postgresql+psycopg://{self.postgres_user}:{password}@{self.host}:"
            f"{self.postgres_port}/{self.postgres_db}"
        )

    @property
    def model_store_dir(self) -> Path:
        return self.models_dir or self.home / "models"

    @property
    def state_dir(self) -> Path:
        return self.stack_dir or self.home / "stack"

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka_address or f"{self.host}:{self.kafka_port}"

    @property
    def influx_url(self) -> str:
        return _no_slash(self.influx_address) or f"http://{self.host}:{self.influx_port}"

    @property
    def flink_rest_url(self) -> str:
        return _no_slash(self.flink_address) or f"http://{self.host}:{self.flink_rest_port}"

    @property
    def kinesis_endpoint(self) -> str | None:
        """The Kinesis endpoint boto3 is pointed at; None = real AWS."""
        if self.kinesis_address == "aws":
            return None
        return _no_slash(self.kinesis_address) or f"http://{self.host}:{self.kinesis_port}"

    @property
    def kinesis_emulated(self) -> bool:
        return self.kinesis_address != "aws"

    @property
    def aws_emulated(self) -> bool:
        """True unless ``aws_endpoint`` is real AWS: S3 and SageMaker's API are an emulator's."""
        return self.aws_endpoint != "aws"

    @property
    def aws_endpoint_url(self) -> str | None:
        """The endpoint boto3 is pointed at; None = real AWS (boto3 picks each service's)."""
        if self.aws_endpoint == "local":
            return f"http://{self.host}:{self.aws_port}"
        return None if self.aws_endpoint == "aws" else self.aws_endpoint

    @property
    def graphql_url(self) -> str:
        return _no_slash(self.graphql_address) or f"http://{self.host}:{self.graphql_port}/graphql"

    @property
    def replay_url(self) -> str:
        return _no_slash(self.replay_address) or f"http://{self.host}:{self.replay_port}"

    @property
    def graphql_listen_host(self) -> str:
        return self.graphql_bind or self.host

    @property
    def replay_listen_host(self) -> str:
        return self.replay_bind or self.host


def kafka_security_problem(settings: Settings) -> str | None:
    """What is wrong with the Kafka security settings taken together (naming the variables
    and the fix), or None."""
    protocol = settings.kafka_security_protocol
    sasl, tls = protocol.startswith("SASL_"), protocol in ("SSL", "SASL_SSL")
    if sasl and not settings.kafka_sasl_username:
        return (
            f"STREAMLINES_KAFKA_SECURITY_PROTOCOL={protocol} needs a user: set "
            "STREAMLINES_KAFKA_SASL_USERNAME (and STREAMLINES_KAFKA_SASL_PASSWORD)"
        )
    if sasl and not (
        settings.kafka_sasl_password and settings.kafka_sasl_password.get_secret_value()
    ):
        return (
            f"STREAMLINES_KAFKA_SECURITY_PROTOCOL={protocol} needs a password: set "
            "STREAMLINES_KAFKA_SASL_PASSWORD"
        )
    if not sasl and (settings.kafka_sasl_username or settings.kafka_sasl_password):
        return (
            "STREAMLINES_KAFKA_SASL_USERNAME/PASSWORD are set but "
            f"STREAMLINES_KAFKA_SECURITY_PROTOCOL is {protocol}: set it to SASL_SSL (or "
            "SASL_PLAINTEXT), or unset the SASL variables"
        )
    files = {
        "STREAMLINES_KAFKA_SSL_CAFILE": settings.kafka_ssl_cafile,
        "STREAMLINES_KAFKA_SSL_CERTFILE": settings.kafka_ssl_certfile,
        "STREAMLINES_KAFKA_SSL_KEYFILE": settings.kafka_ssl_keyfile,
    }
    given = [name for name, path in files.items() if path is not None]
    if given and not tls:
        return (
            f"{', '.join(given)} set but STREAMLINES_KAFKA_SECURITY_PROTOCOL is {protocol}: "
            "set it to SSL or SASL_SSL, or unset the TLS files"
        )
    if settings.kafka_ssl_keyfile is not None and settings.kafka_ssl_certfile is None:
        return (
            "STREAMLINES_KAFKA_SSL_KEYFILE is the key of a client certificate: set "
            "STREAMLINES_KAFKA_SSL_CERTFILE too"
        )
    return _missing_file(files)


def influx_tls_problem(settings: Settings) -> str | None:
    """What is wrong with the InfluxDB TLS settings (naming the variables), or None."""
    if settings.influx_ssl_ca_cert is None:
        return None
    if not settings.influx_url.startswith("https://"):
        return (
            f"STREAMLINES_INFLUX_SSL_CA_CERT is set but InfluxDB's URL is {settings.influx_url}: "
            "set STREAMLINES_INFLUX_ADDRESS to its https:// URL, or unset the CA"
        )
    if not settings.influx_verify_ssl:
        return (
            "STREAMLINES_INFLUX_SSL_CA_CERT is set and STREAMLINES_INFLUX_VERIFY_SSL is false: "
            "keep one (a CA to verify against, or no verification)"
        )
    return _missing_file({"STREAMLINES_INFLUX_SSL_CA_CERT": settings.influx_ssl_ca_cert})


def _missing_file(files: dict[str, Path | None]) -> str | None:
    for name, path in files.items():
        if path is not None and not path.is_file():
            return f"{name}: no file at {path}: give the path of a PEM file"
    return None


def _no_slash(url: str | None) -> str | None:
    return url.rstrip("/") if url else None


def _url_password(url: str) -> str | None:
    password = urlsplit(url).password
    return None if password is None else unquote(password)


def settings_error(exc: ValidationError) -> UserError:
    """A settings validation error as a UserError that names each variable at fault."""
    problems = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        where = ".".join(str(part) for part in error["loc"])
        text = str(cause) if cause is not None else error["msg"]
        problems.append(f"STREAMLINES_{where.upper()}: {text}" if where else text)
    return UserError(
        "the settings are not valid: " + "; ".join(problems),
        hint="set the STREAMLINES_* variables named, in the environment or in .env",
    )


def load_settings() -> Settings:
    """``Settings()``, with a setting that is not valid (say, a default secret in production)
    reported as a UserError that names it, not as pydantic's traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        raise settings_error(exc) from None
