from streamlines.demo import out_of_orderness_s
from streamlines.settings import Settings


def test_the_watermark_bound_follows_the_replay_speed():
    assert out_of_orderness_s(Settings(replay_speed="60")) == 60
    assert out_of_orderness_s(Settings(replay_speed="1")) == 2
    assert out_of_orderness_s(Settings(replay_speed="2.5")) == 3
    assert out_of_orderness_s(Settings(replay_speed="max")) == 600
    live = Settings(replay_speed="60", alpaca_api_key="k", alpaca_secret_key="s")
    assert out_of_orderness_s(live) == 2
