"""benchmarks.peers.peer_cli: the peers' arguments and the result line the runner reads."""

from __future__ import annotations

from benchmarks.peers.peer_cli import PeerResult, Stopwatch, parse_args, parse_result, print_result


def test_the_result_line_round_trips(capsys):
    print("some log line")
    print_result(PeerResult(1234, 5.5, 4.25))
    assert parse_result(capsys.readouterr().out) == PeerResult(1234, 5.5, 4.25)


def test_the_stopwatch_counts_this_process_cpu():
    watch = Stopwatch()
    total = sum(i * i for i in range(300_000))
    result = watch.result(total)
    assert result.cpu_seconds > 0
    assert result.seconds >= result.cpu_seconds * 0.5  # one thread: CPU <= wall (coarse clocks)


def test_no_result_line_is_none():
    assert parse_result("Traceback ...\nError") is None


def test_symbols_are_split():
    args = parse_args(
        "x",
        ["--bootstrap", "b:9092", "--trades-topic", "t", "--quotes-topic", "q",
         "--output-topic", "o", "--group", "g", "--symbols", "GOOG,EUR/USD", "--state-dir", "/s"],
    )  # fmt: skip
    assert args.symbols == ("GOOG", "EUR/USD")
