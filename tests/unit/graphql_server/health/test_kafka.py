"""Consumer lag from committed and end offsets."""

from kafka import TopicPartition

from graphql_server.health.kafka import ConsumerLagInfo, lags


def test_lag_is_end_minus_committed_summed_per_group_and_topic():
    a0, a1, b0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)
    gone = TopicPartition("deleted", 0)
    committed = {
        "sink": {a0: 90, a1: 200, b0: 5, gone: 3},
        "ripples": {b0: -1},  # nothing committed on b yet
        "late": {a0: 120},  # ahead of the end offset it was read with: no negative lag
    }
    ends = {a0: 100, a1: 250, b0: 5}
    assert lags(committed, ends) == [
        ConsumerLagInfo("late", "a", 0, 1),
        ConsumerLagInfo("sink", "a", 10 + 50, 2),
        ConsumerLagInfo("sink", "b", 0, 1),
    ]
