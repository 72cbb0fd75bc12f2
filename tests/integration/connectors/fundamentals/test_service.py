"""``streamlines gather fundamentals`` from a real replay server into the real Kafka and
InfluxDB: the S&P 500's earnings equal Shiller's series, GOOG's announcements are at 16:00
New York, a re-run adds nothing, a bad file row goes to the dead-letter topic with its reason
while the good rows are written, and corporate actions set on the server reach both the
fundamentals and the gathered bars."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from kafka.admin import KafkaAdminClient

from connectors.fundamentals.service import SymbolsRequest, Target, gather_symbols
from streamlines.contracts.events import Fundamental
from streamlines.contracts.time import datetime_to_ns, ns_to_datetime
from streamlines.datasets import earnings_dates, shiller_monthly
from tests.integration.connectors.fundamentals.conftest import cli, stored_fundamentals
from tests.support.gather import expected, gather, stored

NEW_YORK = ZoneInfo("America/New_York")


def test_the_sp500s_monthly_series_equal_shillers_exactly(
    fundamentals_settings, influx, market_bucket, unique_name, read_topic
):
    request = SymbolsRequest(["SP500"], date(1999, 1, 1), date(2018, 12, 31))
    report = gather_symbols(fundamentals_settings, Target(market_bucket, unique_name), request)
    assert report.failed == {}
    assert report.rejected == []
    months = shiller_monthly().loc["1999":"2018"]
    assert len(months) == 240
    want = {
        "earnings_ttm": dict(zip(months.index, months["earnings"], strict=True)),
        "dividend_ttm": dict(zip(months.index, months["dividend"], strict=True)),
        "earnings_10y": dict(zip(months.index, months["sp500"] / months["cape"], strict=True)),
    }
    held = stored_fundamentals(influx, market_bucket)
    for fact, values in want.items():
        got = {t: fields["value"] for (s, f, t), fields in held.items() if f == fact}
        assert got == {datetime_to_ns(t): v for t, v in values.items()}, fact
    assert {s for s, _, _ in held} == {"SP500"}
    assert all(fields["source"] == "MULTPL" for fields in held.values())
    assert report.written == {("SP500", fact): 240 for fact in want}

    records = read_topic(unique_name, 721)
    assert len(records) == report.records == 720
    events = [Fundamental.from_wire(r.value) for r in records]
    assert all(r.key == b"SP500" for r in records)
    assert {(e.symbol, e.fact, e.t_ns): e.value for e in events} == {
        key: fields["value"] for key, fields in held.items()
    }


def test_googs_announcements_are_public_at_16_new_york(
    fundamentals_settings, influx, market_bucket
):
    request = SymbolsRequest(["GOOG"], date(2004, 8, 19), date(2013, 3, 1))
    report = gather_symbols(fundamentals_settings, Target(market_bucket, None), request)
    assert report.failed == {}
    held = stored_fundamentals(influx, market_bucket)
    announcements = {t: fields for (s, f, t), fields in held.items()
                     if (s, f) == ("GOOG", "earnings_announcement")}  # fmt: skip
    assert len(announcements) == len(held) == 34
    source = earnings_dates("GOOG").loc["2004-08-19":"2013-03-01"]
    times = sorted(announcements)
    for t_ns, (day, row) in zip(times, source.iterrows(), strict=True):
        local = ns_to_datetime(t_ns).astimezone(NEW_YORK)
        assert (local.date(), local.hour, local.minute) == (day.date(), 16, 0)
        fields = announcements[t_ns]
        assert (fields["value"], fields["estimate"]) == (row["reported_eps"], row["eps_estimate"])
        assert fields["source"] == "ZACKS/EA"
    # 16:00 New York is 20:00 UTC in summer and 21:00 UTC in winter.
    assert {ns_to_datetime(t).hour for t in times} == {20, 21}


def test_a_second_run_writes_the_same_points_and_keys_again(
    fundamentals_settings, influx, market_bucket, unique_name, read_topic
):
    request = SymbolsRequest(["SP500", "GOOG"], date(2004, 1, 1), date(2013, 12, 31))
    target = Target(market_bucket, unique_name)
    first = gather_symbols(fundamentals_settings, target, request)
    before = stored_fundamentals(influx, market_bucket)
    second = gather_symbols(fundamentals_settings, target, request)
    assert first.failed == second.failed == {}
    assert second.written == first.written
    assert second.total == first.total == len(before) > 300
    assert stored_fundamentals(influx, market_bucket) == before

    records = read_topic(unique_name, 2 * first.total + 1)
    assert len(records) == 2 * first.total
    keys = [(json.loads(r.value)["symbol"], json.loads(r.value)["fact"],
             json.loads(r.value)["t_ns"]) for r in records]  # fmt: skip
    assert keys[: first.total] == keys[first.total :]
    assert set(keys) == set(before)


def test_a_bad_file_row_goes_to_the_dead_letter_topic_and_the_good_rows_are_written(
    replay, influx, market_bucket, unique_name, read_topic, tmp_path
):
    path = tmp_path / "mine.csv"
    path.write_text(
        "symbol,date,fact,value,estimate\n"
        "ACME,2012-01-20,earnings_announcement,1.25,1.20\n"
        "ACME,2012-02-01,dividend,-0.5,\n"
        "ACME,2012-03-01,shares_outstanding,1000000,\n"
    )
    result = cli(replay, "--file", str(path), "--bucket", market_bucket, "--topic", unique_name)
    assert result.returncode == 1, result.stderr
    (said,) = [line for line in result.stdout.splitlines() if line.startswith("  row 2: ")]
    assert "value of dividend must not be negative, got -0.5" in said
    assert "1 of 3 rows were rejected (the others were written)" in result.stderr
    assert "Traceback" not in result.stderr

    held = stored_fundamentals(influx, market_bucket)
    day = datetime_to_ns(datetime(2012, 1, 20, tzinfo=UTC))
    assert held == {
        ("ACME", "earnings_announcement", day): {"value": 1.25, "estimate": 1.2,
                                                 "source": "file", "revision": 0},
        ("ACME", "shares_outstanding", datetime_to_ns(datetime(2012, 3, 1, tzinfo=UTC))): {
            "value": 1_000_000.0, "source": "file", "revision": 0},
    }  # fmt: skip
    assert len(read_topic(unique_name, 3)) == 2
    (dead,) = read_topic(f"{unique_name}.dlq", 2)
    letter = json.loads(dead.value)
    assert "value of dividend must not be negative" in letter["reason"]
    assert letter["raw"] == {"symbol": "ACME", "date": "2012-02-01", "fact": "dividend",
                             "value": "-0.5", "estimate": None}  # fmt: skip


def test_corporate_actions_reach_the_fundamentals_and_the_bars(
    replay, fundamentals_settings, influx, market_bucket, set_corporate_actions
):
    set_corporate_actions([
        {"symbol": "GOOG", "type": "cash_dividend", "ex_date": "2012-03-05", "rate": 0.5,
         "new_rate": None, "old_rate": None, "record_date": "2012-03-07",
         "payable_date": "2012-03-20"},
        {"symbol": "GOOG", "type": "forward_split", "ex_date": "2012-03-07", "rate": None,
         "new_rate": 3, "old_rate": 2, "record_date": None, "payable_date": None},
        {"symbol": "GOOG", "type": "reverse_split", "ex_date": "2012-03-09", "rate": None,
         "new_rate": 1, "old_rate": 4, "record_date": None, "payable_date": None},
    ])  # fmt: skip
    bars = gather(fundamentals_settings, ["GOOG"], "2012-03-01", "2012-03-31", market_bucket,
                  None)  # fmt: skip
    assert bars.failed == {}
    held = stored(influx, market_bucket, "GOOG", "1Day")
    assert held == expected(replay, "GOOG", "1Day", "2012-03-01", "2012-03-31")
    by_day = {f"{ns_to_datetime(t):%m-%d}": (p["dividend"], p["split_factor"])
              for t, p in held.items()}  # fmt: skip
    assert by_day["03-05"] == (0.5, 1.0)
    assert by_day["03-07"] == (0.0, 1.5)
    assert by_day["03-09"] == (0.0, 0.25)
    assert by_day["03-01"] == by_day["03-30"] == (0.0, 1.0)

    request = SymbolsRequest(["GOOG"], date(2012, 3, 1), date(2012, 3, 31))
    report = gather_symbols(fundamentals_settings, Target(market_bucket, None), request)
    assert report.failed == {}
    facts = {(f, ns_to_datetime(t).astimezone(NEW_YORK)): fields["value"]
             for (s, f, t), fields in stored_fundamentals(influx, market_bucket).items()
             if f in ("dividend", "split")}  # fmt: skip
    assert facts == {
        ("dividend", datetime(2012, 3, 5, tzinfo=NEW_YORK)): 0.5,
        ("split", datetime(2012, 3, 7, tzinfo=NEW_YORK)): 1.5,
        ("split", datetime(2012, 3, 9, tzinfo=NEW_YORK)): 0.25,
    }


def test_the_command_creates_its_topics_and_reports_per_symbol_and_fact(
    replay, settings, market_bucket, unique_name
):
    result = cli(replay, "--symbols", "SP500,GOOG", "--start", "2012-01-01", "--end",
                 "2012-12-31", "--bucket", market_bucket, "--topic", unique_name)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["GOOG", "earnings_announcement", "4"] in lines
    for fact in ("earnings_ttm", "dividend_ttm", "earnings_10y"):
        assert ["SP500", fact, "12"] in lines
    assert f"wrote 40 fundamentals into InfluxDB bucket {market_bucket}" in result.stdout
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        assert {unique_name, f"{unique_name}.dlq"} <= set(admin.list_topics())
    finally:
        admin.close()
