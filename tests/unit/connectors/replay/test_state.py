import msgpack

from connectors.replay.state import Faults, SendLog


def test_records_trades_only_with_exact_event_times_and_stays_bounded():
    log = SendLog(limit=2)
    t = 1_325_601_000_123_456_789
    messages = [
        {"T": "q", "S": "GOOG", "t": msgpack.Timestamp.from_unix_nano(t)},
        {"T": "t", "S": "GOOG", "t": msgpack.Timestamp.from_unix_nano(t + 1)},
        {"T": "t", "S": "SP500", "t": msgpack.Timestamp.from_unix_nano(t + 2)},
        {"T": "t", "S": "SP500", "t": msgpack.Timestamp.from_unix_nano(t + 3)},
    ]
    log.record(messages, sent_ns=99)
    assert log.trades == [("GOOG", t + 1, 99), ("SP500", t + 2, 99)]
    assert log.dropped == 1


def test_a_counted_rest_error_fires_that_many_times_and_minus_one_always():
    faults = Faults(rest_error_status=503, rest_error_count=2)
    assert [faults.rest_error_now() for _ in range(3)] == [503, 503, None]
    always = Faults(rest_error_status=429, rest_error_count=-1)
    assert [always.rest_error_now() for _ in range(3)] == [429, 429, 429]
    assert Faults().rest_error_now() is None
