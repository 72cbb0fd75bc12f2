"""``streamlines replay ...``: run the Alpaca-protocol replay server. Argument parsing only: the
server's set-up is ``connectors.replay.service``."""

from __future__ import annotations

from pathlib import Path

import typer

from connectors.replay.symbols import REAL_CRYPTO, REAL_STOCKS
from streamlines.errors import UserError
from streamlines.settings import Settings

app = typer.Typer(
    help="The Alpaca-protocol replay server: real historical data, no account, no network.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def parse_speed(text: str) -> float | None:
    """``max`` (as fast as the client reads), or a multiple of real time (``1``, ``60``)."""
    if text.strip().lower() in ("max", "0"):
        return None
    speed = float(text)
    if speed <= 0:
        raise ValueError(text)
    return speed


def _speed(text: str) -> float | None:
    try:
        return parse_speed(text)
    except ValueError:
        raise UserError(f"--speed {text!r}: use a positive number (1 = real time) or max") from None


def parse_credentials(pairs: list[str]) -> dict[str, str]:
    """``KEY:SECRET`` pairs as key -> secret."""
    credentials = {}
    for pair in pairs:
        key, sep, secret = pair.partition(":")
        if not sep or not key or not secret:
            raise UserError(f"--credentials {pair!r}: write it as KEY:SECRET")
        credentials[key] = secret
    return credentials


def split_symbols(text: str | None) -> list[str] | None:
    """Comma-separated symbols; None (all real ones) when not given."""
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


@app.command("serve")
def serve_command(
    host: str | None = typer.Option(
        None,
        help="Interface to listen on (default: STREAMLINES_REPLAY_BIND, else STREAMLINES_HOST).",
    ),
    port: int | None = typer.Option(None, help="Port (default: STREAMLINES_REPLAY_PORT, 8765)."),
    speed: str | None = typer.Option(
        None,
        help="Replay speed: 1 = real time, 60 = a minute per second, max = as fast as the "
        "client reads (default: STREAMLINES_REPLAY_SPEED, 60).",
    ),
    start: str | None = typer.Option(
        None,
        help="Replay start, a date or time (UTC unless it says otherwise) (default: "
        "STREAMLINES_REPLAY_START, 2012-01-03T14:30:00Z).",
    ),
    symbols: str | None = typer.Option(
        None,
        help=f"Comma-separated symbols to serve: {', '.join([*REAL_STOCKS, *REAL_CRYPTO])}, "
        "SYN0001-style synthetic tickers or symbols from --data (default: all real ones).",
    ),
    universe_size: int = typer.Option(
        0, min=0, help="Pad the stock universe with synthetic tickers up to this many symbols."
    ),
    data: list[Path] = typer.Option(  # noqa: B008
        [], help="Your own bars or trades (CSV or Parquet); repeat for several files."
    ),
    seed: int = typer.Option(7, help="Seed of the generated intraday trades and quotes."),
    trades_per_minute: float = typer.Option(
        2.0, min=0.01, help="Generated trades per minute of each real bar's trading window."
    ),
    credentials: list[str] = typer.Option(  # noqa: B008
        [], help="Accept only these KEY:SECRET pairs (repeatable) (default: accept any)."
    ),
    auth_timeout: float = typer.Option(10.0, min=0.1, help="Seconds a client has to auth."),
    max_connections_per_key: int = typer.Option(1, min=1, help="Streams per key and feed."),
    max_symbols: int | None = typer.Option(None, min=1, help="Symbols per stream (405 above)."),
    rate_limit: int | None = typer.Option(
        None, min=1, help="REST requests per minute per key (429 above)."
    ),
    drop_after: int | None = typer.Option(
        None, min=1, help="Fault: close a stream after this many data messages."
    ),
    drop_connections: int = typer.Option(
        1, help="Fault: how many streams --drop-after applies to (-1: all)."
    ),
    refuse_auth: int = typer.Option(0, help="Fault: refuse this many auth attempts (-1: all)."),
    malformed_every: int | None = typer.Option(
        None, min=1, help="Fault: every Nth data frame is malformed."
    ),
    out_of_order_every: int | None = typer.Option(
        None, min=2, help="Fault: every Nth message swaps places with the next."
    ),
    hostile_every: int | None = typer.Option(
        None,
        min=1,
        help="Fault: after every Nth data message, a hostile one (wrong types, NaN, bad sizes, "
        "huge symbols, crossed quotes, far times, duplicates; see docs/replay.md).",
    ),
    hostile_count: int = typer.Option(
        -1, help="Fault: how many hostile messages --hostile-every sends in all (-1: no end)."
    ),
    rest_error_status: int | None = typer.Option(
        None, help="Fault: REST data requests answer this status (429 or 500)."
    ),
    rest_error_count: int = typer.Option(
        1, help="Fault: how many REST requests --rest-error-status hits (-1: all)."
    ),
    bar_stats: bool = typer.Option(
        True,
        help="Keep the bars' generated trade counts and VWAPs on disk, so a restarted server "
        "serves daily bars at full speed from the first request.",
    ),
    bar_stats_dir: Path | None = typer.Option(  # noqa: B008
        None, help="Where to keep them (default: <STREAMLINES_HOME>/replay/bar-stats)."
    ),
    corporate_actions: Path | None = typer.Option(  # noqa: B008
        None,
        "--corporate-actions",
        help="Corporate actions to serve on /v1/corporate-actions: a CSV with the columns "
        "symbol,type,ex_date,rate,new_rate,old_rate,record_date,payable_date (type "
        "cash_dividend, forward_split or reverse_split) (default: none; the real data has none).",
    ),
    log_level: str = typer.Option("info", help="uvicorn log level (debug, info, warning)."),
) -> None:
    """Serve Alpaca's market-data websocket and REST protocols from real historical data."""
    # Imported here, not at the top: pandas, uvicorn and the data sets would slow down every
    # other `streamlines` command.
    from connectors.replay import service
    from connectors.replay.state import Faults, ReplayConfig

    settings = Settings()
    speed_text = speed or settings.replay_speed
    config = ReplayConfig(
        speed=_speed(speed_text),
        start=start or settings.replay_start,
        auth_timeout=auth_timeout,
        max_connections_per_key=max_connections_per_key,
        max_symbols=max_symbols,
        credentials=parse_credentials(credentials),
        rest_rate_limit=rate_limit,
    )
    faults = Faults(
        drop_after_messages=drop_after,
        drop_connections=drop_connections,
        refuse_auth=refuse_auth,
        malformed_every=malformed_every,
        out_of_order_every=out_of_order_every,
        hostile_every=hostile_every,
        hostile_count=hostile_count,
        rest_error_status=rest_error_status,
        rest_error_count=rest_error_count,
    )
    stats_dir = (bar_stats_dir or settings.home / "replay" / "bar-stats") if bar_stats else None
    served = service.UniverseOptions(
        split_symbols(symbols), universe_size, data, seed, trades_per_minute, stats_dir
    )
    state = service.server_state(config, served, faults, corporate_actions)
    bind_host, bind_port = host or settings.replay_listen_host, port or settings.replay_port
    typer.echo(service.banner(state, bind_host, bind_port, speed_text), err=True)
    service.run_server(state, bind_host, bind_port, log_level)


@app.command("symbols")
def symbols_command(
    universe_size: int = typer.Option(0, min=0, help="Include synthetic tickers up to N stocks."),
) -> None:
    """List the symbols the server would serve and where their data comes from."""
    # Imported here, not at the top: see serve_command.
    from connectors.replay import service

    for line in service.symbol_lines(universe_size):
        typer.echo(line)
