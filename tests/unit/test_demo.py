from streamlines.demo import LateCounter, out_of_orderness_s
from streamlines.settings import Settings
from streamlines.stack.http import HttpError


def test_the_watermark_bound_follows_the_replay_speed():
    assert out_of_orderness_s(Settings(replay_speed="60")) == 60
    assert out_of_orderness_s(Settings(replay_speed="1")) == 2
    assert out_of_orderness_s(Settings(replay_speed="2.5")) == 3
    assert out_of_orderness_s(Settings(replay_speed="max")) == 600
    live = Settings(replay_speed="60", alpaca_api_key="k", alpaca_secret_key="s")
    assert out_of_orderness_s(live) == 2


class FakeFlink:
    def __init__(self, answers: list[int | Exception]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def late_records_dropped(self, job_id: str) -> int:
        self.asked.append(job_id)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_the_late_count_is_asked_at_most_every_interval_and_a_failed_ask_shows_unknown():
    flink = FakeFlink([1234, HttpError(503, "busy"), 7])
    late = LateCounter(flink, "job-1", every=0)  # type: ignore[arg-type]
    assert [late.text(), late.text(), late.text()] == ["1,234", "?", "7"]
    assert flink.asked == ["job-1"] * 3

    slow = FakeFlink([5])
    late = LateCounter(slow, "job-2", every=3600)  # type: ignore[arg-type]
    assert [late.text(), late.text()] == ["5", "5"]
    assert slow.asked == ["job-2"]
