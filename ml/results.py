"""Backtest results, kept with the model they test: ``<model folder>/backtests/<id>.json``."""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml.backtest import BacktestResult, result_from_json
from ml.models import MODEL_ID
from streamlines.errors import UserError

BACKTEST_ID = re.compile(r"^bt-\d{8}T\d{6}-[0-9a-f]{6}$")


class UnknownBacktest(UserError):
    """No backtest with this (well-formed) id."""


@dataclass(frozen=True)
class BacktestRecord:
    backtest_id: str
    model_id: str
    start: datetime
    end: datetime
    created_at: datetime
    result: BacktestResult

    def to_json(self) -> dict[str, Any]:
        return {
            "backtest_id": self.backtest_id,
            "model_id": self.model_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "created_at": self.created_at.isoformat(),
            "result": self.result.to_json(),
        }


class BacktestStore:
    """The backtests of the models under ``root`` (the model store's folder)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, model_id: str, start: datetime, end: datetime,
             result: BacktestResult) -> BacktestRecord:  # fmt: skip
        now = datetime.now(UTC).replace(microsecond=0)
        record = BacktestRecord(
            f"bt-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}", model_id, start, end, now, result
        )
        folder = self.root / model_id / "backtests"
        folder.mkdir(parents=True, exist_ok=True)
        # Written whole or not at all: a temporary file beside it, then renamed.
        with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as tmp:
            json.dump(record.to_json(), tmp, allow_nan=False)
        os.replace(tmp.name, folder / f"{record.backtest_id}.json")
        return record

    def get(self, backtest_id: str) -> BacktestRecord:
        if not BACKTEST_ID.match(backtest_id):
            raise UserError(f"{backtest_id!r} is not a backtest id (bt-<yyyymmddThhmmss>-<hex>)")
        found = sorted(self.root.glob(f"*/backtests/{backtest_id}.json"))
        if not found:
            raise UnknownBacktest(
                f"no backtest {backtest_id!r}", "list them with `streamlines ml backtests MODEL_ID`"
            )
        return _read(found[0])

    def list_for(self, model_id: str) -> list[BacktestRecord]:
        folder = self.root / model_id / "backtests"
        return [_read(path) for path in sorted(folder.glob("bt-*.json"))]

    def delete_for(self, model_id: str) -> list[str]:
        """Delete the model's backtests; the ids of those deleted."""
        if not MODEL_ID.match(model_id):
            raise UserError(f"{model_id!r} is not a model id (<config name>-<yyyymmddThhmmss>-"
                            "<6 hex>)")  # fmt: skip
        folder = self.root / model_id / "backtests"
        deleted = []
        for path in sorted(folder.glob("bt-*.json")):
            path.unlink()
            deleted.append(path.stem)
        for leftover in folder.glob("*.tmp"):  # a save cut short
            leftover.unlink()
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        return deleted


def _read(path: Path) -> BacktestRecord:
    document = json.loads(path.read_text())
    return BacktestRecord(
        backtest_id=document["backtest_id"],
        model_id=document["model_id"],
        start=datetime.fromisoformat(document["start"]),
        end=datetime.fromisoformat(document["end"]),
        created_at=datetime.fromisoformat(document["created_at"]),
        result=result_from_json(document["result"]),
    )
