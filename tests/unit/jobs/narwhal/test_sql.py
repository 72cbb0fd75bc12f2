"""jobs.narwhal.sql: the SQL the job runs (no Flink needed)."""

from __future__ import annotations

import re

import pytest

from jobs.narwhal.options import Options
from jobs.narwhal.sql import (
    SINK_INSERT,
    VIEW_SCORED,
    bar_and_indicator_rows_view,
    bars_all_view,
    indicator_rows_view,
    kafka_source_options,
    sink_ddl,
    source_ddl,
    statements,
    stream_input_view,
)
from jobs.narwhal.window import BAR_VALUES, LOOKBACK
from ml.features import INDICATOR_COLUMNS
from streamlines.contracts.events import Prediction
from streamlines.contracts.timeframes import BarTimeframe

DAY = BarTimeframe.DAY_1


def test_every_topic_is_read_from_the_start_and_history_always_finishes():
    opts = Options(bootstrap="k:1")
    history = kafka_source_options(opts, "h", history=True)
    live = kafka_source_options(opts, "l", history=False)
    assert history["scan.startup.mode"] == live["scan.startup.mode"] == "earliest-offset"
    assert history["scan.bounded.mode"] == "latest-offset"
    assert "scan.bounded.mode" not in live
    assert "scan.watermark.idle-timeout" not in history | live
    bounded = kafka_source_options(Options(bootstrap="k:1", bounded=True), "l", history=False)
    assert bounded["scan.bounded.mode"] == "latest-offset"


def test_history_watermark_is_held_and_the_others_have_the_out_of_orderness():
    history, live, indicators = source_ddl(Options(bootstrap="k:1", out_of_orderness_s=7))
    assert "WATERMARK FOR ts AS TO_TIMESTAMP_LTZ(0, 3)" in history
    assert all(f"adj_{c} DOUBLE" in history for c in BAR_VALUES)
    assert "WATERMARK FOR ts AS ts - INTERVAL '7' SECOND" in live
    assert "WATERMARK FOR ts AS ts - INTERVAL '7' SECOND" in indicators
    assert (
        "`values` ROW<`rsi.rsi_14` DOUBLE, `macd.histogram` DOUBLE, `bollinger.upper` DOUBLE,"
        in indicators
    )
    assert len(source_ddl(Options(bootstrap="k:1", history_topic=None))) == 2


def test_bars_are_the_adjusted_values_where_there_are_some_of_the_timeframe_only():
    view = bars_all_view(Options(bootstrap="k:1"), BarTimeframe.MINUTE_1)
    for column in ("open", "high", "low", "close", "volume"):
        assert re.search(rf"COALESCE\(adj_{column}, `?{column}`?\) AS `?{column}`?", view)
    assert view.count("WHERE timeframe = '1Min'") == 2
    assert "UNION ALL" in view
    only_live = bars_all_view(Options(bootstrap="k:1", history_topic=None), DAY)
    assert "bars_history" not in only_live
    assert "UNION ALL" not in only_live
    with pytest.raises(ValueError, match="needs the history topic"):
        bars_all_view(Options(bootstrap="k:1", history_topic=None, live_topic=None), DAY)


def test_each_indicator_input_column_comes_from_its_key_in_the_per_bar_record():
    view = indicator_rows_view(DAY)
    for column, (family, field) in INDICATOR_COLUMNS.items():
        assert f"`values`.`{family}.{field}` AS {column}," in view
    assert "WHERE metric = 'indicators_1Day' AND" in view
    assert "'indicators' AS kind" in view
    assert "CASE" not in view
    assert "1Min" not in view
    assert "WHERE metric = 'indicators_1Min' AND" in indicator_rows_view(BarTimeframe.MINUTE_1)


def test_bars_and_indicator_rows_are_one_table_with_the_same_columns():
    bars, indicators = bar_and_indicator_rows_view().split("UNION ALL")
    assert "CAST('bar' AS STRING) AS kind" in bars
    for column in INDICATOR_COLUMNS:
        assert f"CAST(NULL AS DOUBLE) AS {column}" in bars
        assert re.search(rf"\b{column}\b", indicators)
    for column in BAR_VALUES:
        assert f"`{column}`" in bars
        assert f"CAST(NULL AS DOUBLE) AS `{column}`" in indicators
    width = len(BAR_VALUES) + len(INDICATOR_COLUMNS) + 3
    for part in (bars, indicators):
        select = part[part.index("SELECT") + 6 : part.index("FROM")]
        assert len(select.split(",")) == width


def test_the_sink_writes_each_prediction_record_as_the_java_function_encoded_it():
    ddl = sink_ddl(Options(bootstrap="k:1", output_topic="out"))
    fields = re.findall(r"^\s+`?(\w+)`? \w+,?$", ddl.split(") WITH")[0], re.MULTILINE)
    assert fields == ["symbol", "record"]
    assert "'key.fields' = 'symbol'" in ddl
    assert "'value.format' = 'raw'" in ddl
    assert "'value.fields-include' = 'EXCEPT_KEY'" in ddl
    assert "'topic' = 'out'" in ddl
    assert "'sink.delivery-guarantee' = 'at-least-once'" in ddl
    arguments = re.search(r"prediction_json\(([^)]*)\)", SINK_INSERT)
    assert arguments is not None
    assert [a.strip(" `") for a in arguments.group(1).split(",")] == list(Prediction.model_fields)
    assert "FROM scored" in SINK_INSERT


def test_statements_in_order():
    ddl = statements(Options(bootstrap="k:1"), DAY)
    names = [re.search(r"(?:TABLE|VIEW|FUNCTION IF NOT EXISTS) (\w+)", s) for s in ddl]
    assert [m.group(1) if m else None for m in names] == [
        "bars_history", "bars_live", "indicators", "predictions", "bars_all", "ordered_bars",
        "bars", "indicator_rows", "bar_and_indicator_rows", "settled_bars", "stream_input",
        "prediction_json",
    ]  # fmt: skip


def test_settled_bars_waits_for_the_per_bar_records_and_gives_each_bar_its_look_back():
    view = stream_input_view()
    assert "TABLE bar_and_indicator_rows PARTITION BY symbol" in view
    assert "families => 'indicators'" in view
    assert f"lookback => {LOOKBACK}" in view
    assert "history => 'close,volume'" in view
    assert "SELECT symbol, t_ns, times, `values`" in view


def test_the_python_function_scores_each_bar_into_a_prediction():
    assert "score_windows(symbol, t_ns, times, `values`) AS p FROM stream_input" in VIEW_SCORED
    assert "SELECT symbol, t_ns, p.`model_id`, p.`timeframe`, p.`horizon`, p.`value`" in (
        VIEW_SCORED
    )
