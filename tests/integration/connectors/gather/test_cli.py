"""``streamlines gather`` end to end, from a real replay server into the real InfluxDB and Kafka:
an unknown symbol is reported while the others are written; ``--daily`` appends the latest
completed bars."""

from __future__ import annotations

import pytest

from tests.support.gather import cli, expected, gather, stored


@pytest.mark.parametrize("processes", ["1", "2"])
def test_an_unknown_symbol_is_reported_and_the_others_are_written(
    replay, influx, market_bucket, processes
):
    result = cli(replay, "--symbols", "GOOG,NOPE", "--start", "2012-01-01", "--end",
                 "2012-03-31", "--bucket", market_bucket, "--no-kafka",
                 "--processes", processes)  # fmt: skip
    assert result.returncode == 1
    assert "error: 1 of 2 symbols failed (the others were written):" in result.stderr
    assert "NOPE: no bars from 2012-01-01 00:00 to 2012-03-31 00:00 UTC" in result.stderr
    assert "Traceback" not in result.stderr
    want = expected(replay, "GOOG", "1Day", "2012-01-01", "2012-03-31")
    assert stored(influx, market_bucket, "GOOG", "1Day") == want
    assert stored(influx, market_bucket, "NOPE", "1Day") == {}


def test_daily_appends_the_latest_completed_bars(
    replay, gather_settings, influx, market_bucket, unique_name, read_topic
):
    bucket, topic = market_bucket, unique_name
    history = gather(gather_settings, ["SP500", "NASDAQ"], "2018-06-01", "2018-06-29", bucket,
                     topic)  # fmt: skip
    assert history.failed == {}
    # At noon on 3 July the bar of 2 July is complete and the bar of 3 July is not; at noon on
    # 5 July the bar of 3 July is (4 July is a holiday) and the bar of 5 July is not.
    days = (("2018-07-03T12:00:00Z", "2018-07-02"), ("2018-07-05T12:00:00Z", "2018-07-03"))
    for as_of, last in days:
        daily = cli(replay, "--daily", "--as-of", as_of, "--bucket", bucket, "--topic", topic)
        assert daily.returncode == 0, daily.stderr
        for symbol in ("SP500", "NASDAQ"):
            want = expected(replay, symbol, "1Day", "2018-06-01", last)
            assert stored(influx, bucket, symbol, "1Day") == want
            assert len(want) == history.results[symbol].bars + (1 if last == "2018-07-02" else 2)
    records = read_topic(topic, history.bars + 5)
    assert len(records) == history.bars + 4  # only the appended bars went to Kafka again

    # Nothing more is complete by then: a second daily run appends nothing.
    again = cli(replay, "--daily", "--as-of", as_of, "--bucket", bucket, "--no-kafka")
    assert again.returncode == 0, again.stderr
    assert "gathered 0 bars of 2 symbols" in again.stderr

    # A symbol the bucket does not have yet gets its latest completed bar only.
    new = cli(replay, "--daily", "--as-of", as_of, "--symbols", "ADJX", "--bucket", bucket,
              "--no-kafka")  # fmt: skip
    assert new.returncode == 0, new.stderr
    adjx = stored(influx, bucket, "ADJX", "1Day")
    assert adjx == expected(replay, "ADJX", "1Day", "2018-07-03", "2018-07-03")
