"""The replay server's set-up: the symbols it serves (``Universe``), its configuration, fault
plan and corporate actions (``ServerState``), and the uvicorn run (``connectors.replay.server``);
what ``streamlines replay serve`` and ``streamlines replay symbols`` call."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from connectors.replay.barstats import BarStatsStore
from connectors.replay.corporate_action_rows import (
    COLUMNS,
    CorporateAction,
    CorporateActionError,
    read_actions_csv,
)
from connectors.replay.feed import SynthConfig
from connectors.replay.server import PortInUseError, serve
from connectors.replay.state import Faults, ReplayConfig, ServerState, parse_start
from connectors.replay.universe import Universe, UniverseError, build_universe
from streamlines.errors import UserError

REST_ERROR_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class UniverseOptions:
    """Which symbols to serve: the real ones (or only ``symbols``), padded with synthetic stocks
    up to ``size``, plus ``data`` files; generated trades from ``seed``; the bars' trade counts
    and VWAPs kept in ``bar_stats_dir`` (None: not kept)."""

    symbols: list[str] | None = None
    size: int = 0
    data: list[Path] = field(default_factory=list)
    seed: int = 7
    trades_per_minute: float = 2.0
    bar_stats_dir: Path | None = None


def load_universe(options: UniverseOptions) -> Universe:
    store = BarStatsStore(options.bar_stats_dir) if options.bar_stats_dir else None
    try:
        return build_universe(
            symbols=options.symbols,
            size=options.size,
            data_files=options.data,
            synth=SynthConfig(seed=options.seed, trades_per_minute=options.trades_per_minute),
            stats_store=store,
        )
    except UniverseError as exc:
        raise UserError(str(exc)) from None


def check_faults(faults: Faults) -> Faults:
    """``faults`` if the server can inject them (a REST error count without a status counts
    nothing); a ``UserError`` for a REST status it does not inject."""
    status = faults.rest_error_status
    if status is not None and status not in REST_ERROR_STATUSES:
        raise UserError("--rest-error-status: use 429 or a 5xx status such as 500")
    return faults if status else replace(faults, rest_error_count=0)


def load_corporate_actions(path: Path | None) -> list[CorporateAction]:
    """The actions of ``--corporate-actions FILE`` (none without one); a ``UserError`` names
    the file's bad lines."""
    if path is None:
        return []
    try:
        return read_actions_csv(path)
    except CorporateActionError as exc:
        raise UserError(
            f"--corporate-actions: {exc}",
            hint=f"a CSV with the header {','.join(COLUMNS)} (see docs/replay.md)",
        ) from None


def server_state(
    config: ReplayConfig,
    symbols: UniverseOptions,
    faults: Faults,
    corporate_actions: Path | None = None,
) -> ServerState:
    """The server's state: its configuration, the symbols it serves, the faults to inject and
    the corporate actions it serves (from ``corporate_actions``, a CSV file)."""
    try:
        parse_start(config.start)
    except ValueError:
        raise UserError(
            f"--start {config.start!r}: use a date or time like 2012-01-03T14:30:00Z"
        ) from None
    checked = check_faults(faults)
    actions = load_corporate_actions(corporate_actions)  # before the universe: fails faster
    return ServerState(
        config=config,
        universe=load_universe(symbols),
        faults=checked,
        corporate_actions=actions,
    )


def banner(state: ServerState, host: str, port: int, speed: str) -> str:
    """The line the server starts with: where it listens and what it serves."""
    where = f"{host}:{port}"
    actions = len(state.corporate_actions)
    return (
        f"replay server on {where}: {len(state.universe.feeds)} symbols, speed {speed}, "
        f"start {state.config.start}; stocks ws://{where}/v2/iex, crypto ws://{where}"
        "/v1beta3/crypto/us, REST (Alpaca; Nasdaq Data Link under /api/v3) and /healthz on "
        f"http; {actions} corporate action{'' if actions == 1 else 's'}"
    )


def run_server(state: ServerState, host: str, port: int, log_level: str = "info") -> None:
    """Serve until stopped; a port in use is a ``UserError``."""
    try:
        serve(state, host, port, log_level)
    except PortInUseError as exc:
        raise UserError(f"{exc}; pass --port or set STREAMLINES_REPLAY_PORT") from None


def symbol_lines(size: int) -> list[str]:
    """One line per symbol the server would serve: symbol, asset class, bar length, source."""
    universe = build_universe(size=size)
    return [
        f"{symbol:10} {feed.asset_class:6} {feed.frequency!s:7} {feed.description}"
        for symbol, feed in universe.feeds.items()
    ]
