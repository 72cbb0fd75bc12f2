"""The real symbols the replay server serves, and the data set behind each (no heavy imports,
so the CLI's help can list them quickly)."""

from __future__ import annotations

REAL_STOCKS = {"GOOG": "GOOG", "SP500": "SP500", "NASDAQ": "NASDAQ"}
REAL_CRYPTO = {"BTC/USD": "BTCUSD", "EUR/USD": "EURUSD"}
