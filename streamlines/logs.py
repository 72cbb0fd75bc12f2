"""Logging set-up shared by every command: one line per event, UTC timestamps."""

from __future__ import annotations

import logging
import time


def configure_logging(level: int = logging.INFO) -> None:
    formatter = logging.Formatter("%(asctime)sZ %(levelname)-7s %(name)s: %(message)s")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("kafka", "urllib3", "botocore", "influxdb_client", "alembic"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
