"""The control endpoint, so tests and scripts can steer a running replay server.

- ``GET /healthz``: liveness and a summary (symbols, open streams, messages sent).
- ``GET /control``: the configuration and the fault plan in force.
- ``POST /control/faults`` (JSON object): change faults; ``DELETE /control/faults``: clear them.
- ``POST /control/config`` (JSON object): change ``speed``, ``start``, ``rest_rate_limit``,
  ``max_connections_per_key``, ``max_symbols``, ``allowed_feeds``, ``auth_timeout``,
  ``slow_client_seconds`` (new streams use them).
- ``DELETE /control/positions``: forget where each key's stream stopped (no more resuming).
- ``POST /control/drop`` (JSON object, optional ``key``, ``asset_class``, ``away_seconds``):
  close the matching open streams (every one without a key) as a lost connection does, and
  refuse that key's new streams for ``away_seconds`` (an outage; 406 as Alpaca answers before
  it has reaped the old connection). Answers ``{"dropped": n}``.
- ``POST /control/corporate-actions`` (JSON list of rows ``symbol, type, ex_date, rate,
  new_rate, old_rate, record_date, payable_date``): the corporate actions Alpaca's
  ``/v1/corporate-actions`` serves from now on, replacing the set; ``GET`` shows them (as rows),
  ``DELETE`` clears them.
- ``POST /control/send-log``: start (or restart) recording when each trade is sent;
  ``GET /control/send-log``: ``{"trades": [[symbol, event ns, sent ns], ...], "dropped": n}``
  (sent = the server's wall clock, ns, as the frame went out; for latency benchmarks).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.replay.corporate_action_rows import CorporateActionError, parse_actions
from connectors.replay.state import Faults, SendLog, ServerState, parse_start

_CONFIG_FIELDS = {
    "speed",
    "start",
    "rest_rate_limit",
    "max_connections_per_key",
    "max_symbols",
    "allowed_feeds",
    "auth_timeout",
    "slow_client_seconds",
}


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=400)


async def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class Control:
    """The control endpoint's handlers over one server's state."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/control/send-log", self.start_send_log, methods=["POST"]),
            Route("/control/send-log", self.show_send_log, methods=["GET"]),
            Route("/control", self.show, methods=["GET"]),
            Route("/control/faults", self.set_faults, methods=["POST"]),
            Route("/control/faults", self.clear_faults, methods=["DELETE"]),
            Route("/control/config", self.set_config, methods=["POST"]),
            Route("/control/positions", self.forget_positions, methods=["DELETE"]),
            Route("/control/drop", self.drop, methods=["POST"]),
            Route("/control/corporate-actions", self.show_corporate_actions, methods=["GET"]),
            Route("/control/corporate-actions", self.set_corporate_actions, methods=["POST"]),
            Route("/control/corporate-actions", self.clear_corporate_actions, methods=["DELETE"]),
        ]

    def snapshot(self) -> dict[str, Any]:
        return {
            "config": self.state.config.public(),
            "faults": asdict(self.state.faults),
            "hostile_sent": dict(self.state.hostile_sent),
        }

    async def healthz(self, request: Request) -> JSONResponse:
        state = self.state
        return JSONResponse(
            {
                "status": "ok",
                "symbols": len(state.universe.feeds),
                "streams": sum(state.connections.values()),
                "streams_opened": state.streams_opened,
                "messages_sent": state.messages_sent,
            }
        )

    async def show(self, request: Request) -> JSONResponse:
        return JSONResponse(self.snapshot())

    async def set_faults(self, request: Request) -> JSONResponse:
        body = await _json_object(request)
        if body is None:
            return _bad_request('send a JSON object of faults, e.g. {"drop_after_messages": 50}')
        try:
            self.state.faults.update(body)
        except ValueError as exc:
            return _bad_request(f"{exc}; known faults: {', '.join(sorted(Faults.names()))}")
        return JSONResponse(self.snapshot())

    async def clear_faults(self, request: Request) -> JSONResponse:
        self.state.faults = Faults()
        return JSONResponse(self.snapshot())

    async def set_config(self, request: Request) -> JSONResponse:
        body = await _json_object(request)
        if body is None:
            return _bad_request('send a JSON object, e.g. {"speed": 60}')
        refused = _config_refusal(body)
        if refused is not None:
            return _bad_request(refused)
        if "allowed_feeds" in body:
            body["allowed_feeds"] = tuple(body["allowed_feeds"])
        for name, value in body.items():
            setattr(self.state.config, name, value)
        return JSONResponse(self.snapshot())

    async def forget_positions(self, request: Request) -> JSONResponse:
        self.state.positions.clear()
        return JSONResponse(self.snapshot())

    async def drop(self, request: Request) -> JSONResponse:
        body = await _json_object(request)
        if body is None:
            return _bad_request('send a JSON object, e.g. {"key": "streamlines-ingest"} or {}')
        key, asset_class = body.get("key"), body.get("asset_class")
        away = body.get("away_seconds", 0)
        if not isinstance(away, int | float) or away < 0:
            return _bad_request(f"away_seconds must be a number >= 0, not {away!r}")
        if away:
            if not isinstance(key, str):
                return _bad_request("away_seconds needs the key whose streams are refused")
            self.state.away_until[key] = time.monotonic() + away
        chosen = [
            s
            for s in list(self.state.sessions)
            if (key is None or s.key == key)
            and (asset_class is None or s.asset_class == asset_class)
        ]
        for session in chosen:
            await session.drop()
        return JSONResponse({"dropped": len(chosen)})

    def corporate_actions(self) -> JSONResponse:
        actions = self.state.corporate_actions
        return JSONResponse({"corporate_actions": [a.as_row() for a in actions]})

    async def show_corporate_actions(self, request: Request) -> JSONResponse:
        return self.corporate_actions()

    async def set_corporate_actions(self, request: Request) -> JSONResponse:
        example = '[{"symbol": "GOOG", "type": "forward_split", "ex_date": "2014-04-03", ...}]'
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, list) or not all(isinstance(row, dict) for row in body):
            return _bad_request(f"send a JSON list of corporate actions, e.g. {example}")
        try:
            self.state.corporate_actions = parse_actions(body)
        except CorporateActionError as exc:
            return _bad_request(f"nothing changed: {exc}")
        return self.corporate_actions()

    async def clear_corporate_actions(self, request: Request) -> JSONResponse:
        self.state.corporate_actions = []
        return self.corporate_actions()

    async def start_send_log(self, request: Request) -> JSONResponse:
        self.state.send_log = SendLog()
        return JSONResponse({"recording": True})

    async def show_send_log(self, request: Request) -> JSONResponse:
        log = self.state.send_log
        if log is None:
            return _bad_request("not recording: POST /control/send-log first")
        return JSONResponse({"trades": log.trades, "dropped": log.dropped})


def _config_refusal(body: dict[str, Any]) -> str | None:
    """Why a configuration change cannot be made (None: it can)."""
    unknown = set(body) - _CONFIG_FIELDS
    if unknown:
        return (
            f"cannot change {', '.join(sorted(unknown))}; "
            f"changeable: {', '.join(sorted(_CONFIG_FIELDS))}"
        )
    if "start" in body:
        try:
            parse_start(str(body["start"]))
        except ValueError:
            return f"invalid start {body['start']!r}: use YYYY-MM-DD"
    return None
