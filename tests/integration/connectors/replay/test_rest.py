"""The unmodified alpaca-py historical clients (and plain HTTP) against the replay server."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
from alpaca.data.models import BarSet
from alpaca.data.requests import (
    CryptoBarsRequest,
    StockBarsRequest,
    StockQuotesRequest,
    StockTradesRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from streamlines.datasets import load_bars, load_daily_bars

REAL_COLUMNS = ["open", "high", "low", "close", "volume"]


def _frame(bars: list) -> pd.DataFrame:
    return pd.DataFrame(
        {c: [getattr(b, c) for b in bars] for c in REAL_COLUMNS},
        index=pd.DatetimeIndex([b.timestamp for b in bars], name="timestamp").tz_convert("UTC"),
    )


def test_paginated_daily_bars_equal_the_source_data(replay, api_key):
    """Three symbols over 1999-2018 is more than 10,000 bars, so alpaca-py follows
    next_page_token; what it assembles equals the real data sets exactly."""
    client = StockHistoricalDataClient(api_key, "secret", url_override=replay.http)
    request = StockBarsRequest(
        symbol_or_symbols=["SP500", "GOOG", "NASDAQ"],
        timeframe=TimeFrame.Day,
        start=datetime(1999, 1, 1, tzinfo=UTC),
        end=datetime(2019, 1, 1, tzinfo=UTC),
    )
    bars = client.get_stock_bars(request)
    assert isinstance(bars, BarSet)  # not raw data: the client was not asked for it
    assert sum(len(v) for v in bars.data.values()) > 10_000
    for symbol in ("SP500", "GOOG", "NASDAQ"):
        pd.testing.assert_frame_equal(
            _frame(bars[symbol]), load_daily_bars(symbol)[REAL_COLUMNS], check_freq=False
        )
        assert all(b.trade_count > 0 and b.vwap > 0 for b in bars[symbol] if b.volume > 0)


def test_small_pages_are_sorted_by_symbol_then_time_and_chain_to_the_end(replay, api_key):
    headers = {"APCA-API-KEY-ID": api_key, "APCA-API-SECRET-KEY": "secret"}
    params: dict[str, str | int] = {
        "symbols": "SP500,GOOG",
        "timeframe": "1Day",
        "start": "2013-02-01",
        "end": "2013-03-31",
        "limit": 7,
    }
    seen: list[tuple[str, str]] = []
    pages = 0
    while True:
        response = requests.get(
            f"{replay.http}/v2/stocks/bars",
            params=params,
            headers=headers,
            timeout=10,
            allow_redirects=False,
        )
        assert response.status_code == 200
        body = response.json()
        pages += 1
        page = [(s, b["t"]) for s, rows in body["bars"].items() for b in rows]
        assert len(page) <= 7
        seen += page
        if body["next_page_token"] is None:
            break
        params["page_token"] = body["next_page_token"]
    goog = load_daily_bars("GOOG").loc["2013-02-01":"2013-03-31"]
    sp500 = load_daily_bars("SP500").loc["2013-02-01":"2013-03-31"]
    assert len(seen) == len(goog) + len(sp500)
    assert pages == -(-len(seen) // 7)
    assert seen == sorted(seen)


def test_crypto_bars_are_the_real_monthly_and_hourly_series(replay, api_key):
    client = CryptoHistoricalDataClient(api_key, "secret", url_override=replay.http)
    monthly = client.get_crypto_bars(
        CryptoBarsRequest(
            symbol_or_symbols="BTC/USD",
            timeframe=TimeFrame.Month,
            start=datetime(2012, 1, 1, tzinfo=UTC),
        )
    )
    source = load_bars("BTCUSD")
    got = _frame(monthly["BTC/USD"])
    assert (got.values == source[REAL_COLUMNS].values).all()
    # Alpaca labels a monthly bar with the first day of its month; the source with the last.
    assert list(got.index.to_period("M")) == list(source.index.tz_convert(None).to_period("M"))

    hourly = client.get_crypto_bars(
        CryptoBarsRequest(
            symbol_or_symbols="EUR/USD",
            timeframe=TimeFrame.Hour,
            start=datetime(2017, 1, 1, tzinfo=UTC),
            limit=500,
        )
    )
    pd.testing.assert_frame_equal(
        _frame(hourly["EUR/USD"]), load_bars("EURUSD")[REAL_COLUMNS].iloc[:500], check_freq=False
    )


def test_minute_bars_are_aggregated_from_the_served_trades(replay, api_key):
    client = StockHistoricalDataClient(api_key, "secret", url_override=replay.http)
    start, end = datetime(2010, 3, 1, tzinfo=UTC), datetime(2010, 3, 2, tzinfo=UTC)
    trades = client.get_stock_trades(
        StockTradesRequest(symbol_or_symbols="GOOG", start=start, end=end)
    )["GOOG"]
    minutes = client.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="GOOG",
            timeframe=TimeFrame(5, TimeFrameUnit.Minute),
            start=start,
            end=end,
        )
    )["GOOG"]
    frame = pd.DataFrame(
        {
            "t": [t.timestamp for t in trades],
            "p": [t.price for t in trades],
            "s": [t.size for t in trades],
        }
    )
    grouped = frame.groupby(frame["t"].dt.floor("5min"))
    assert [b.timestamp for b in minutes] == list(grouped.groups)
    assert [b.open for b in minutes] == list(grouped["p"].first())
    assert [b.close for b in minutes] == list(grouped["p"].last())
    assert [b.high for b in minutes] == list(grouped["p"].max())
    assert [b.volume for b in minutes] == list(grouped["s"].sum())
    assert [b.trade_count for b in minutes] == list(grouped.size())
    real = load_daily_bars("GOOG").loc["2010-03-01"]
    assert sum(t.size for t in trades) == real.volume


def test_quotes_bracket_the_trades(replay, api_key):
    client = StockHistoricalDataClient(api_key, "secret", url_override=replay.http)
    quotes = client.get_stock_quotes(
        StockQuotesRequest(
            symbol_or_symbols="GOOG", start=datetime(2010, 3, 1, tzinfo=UTC), limit=300
        )
    )["GOOG"]
    real = load_daily_bars("GOOG").loc["2010-03-01"]
    assert len(quotes) == 300
    assert all(real.low <= q.bid_price <= q.ask_price <= real.high for q in quotes)


def test_sort_descending(replay, api_key):
    client = StockHistoricalDataClient(api_key, "secret", url_override=replay.http)
    bars = client.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="GOOG",
            timeframe=TimeFrame.Day,
            sort="desc",
            start=datetime(2012, 1, 1, tzinfo=UTC),
            limit=5,
        )
    )["GOOG"]
    expected = load_daily_bars("GOOG").iloc[::-1].iloc[:5]
    assert [b.close for b in bars] == list(expected["close"])


def test_errors_rate_limits_and_no_redirects(replay, api_key):
    url = f"{replay.http}/v2/stocks/bars"
    params: dict[str, str | int] = {"symbols": "GOOG", "timeframe": "1Day", "limit": 1}
    headers = {"APCA-API-KEY-ID": api_key, "APCA-API-SECRET-KEY": "secret"}
    assert requests.get(url, params=params, timeout=10).status_code == 401
    bad = requests.get(url, params={**params, "timeframe": "7Day"}, headers=headers, timeout=10)
    assert bad.status_code == 400
    assert "timeframe" in bad.json()["message"]
    slash = requests.get(
        url + "/", params=params, headers=headers, timeout=10, allow_redirects=False
    )
    assert slash.status_code == 404

    replay.call("POST", "/control/config", {"rest_rate_limit": 2})
    statuses = [requests.get(url, params=params, headers=headers, timeout=10) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    limited = statuses[-1]
    assert limited.json()["message"] == "rate limit exceeded"
    assert limited.headers["X-RateLimit-Limit"] == "2"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) > 0


def test_injected_rest_failures_reach_the_client(replay, api_key):
    client = StockHistoricalDataClient(api_key, "secret", url_override=replay.http)
    request = StockBarsRequest(
        symbol_or_symbols="GOOG",
        timeframe=TimeFrame.Day,
        limit=3,
        start=datetime(2010, 1, 1, tzinfo=UTC),
    )
    replay.call("POST", "/control/faults", {"rest_error_status": 500, "rest_error_count": 1})
    with pytest.raises(APIError, match="injected"):
        client.get_stock_bars(request)
    # One injected 429: alpaca-py waits (3 s, its default) and retries on its own.
    replay.call("POST", "/control/faults", {"rest_error_status": 429, "rest_error_count": 1})
    assert len(client.get_stock_bars(request)["GOOG"]) == 3
