"""``python -m connectors.replay serve --port N``."""

from connectors.replay.cli import app

if __name__ == "__main__":
    app(prog_name="python -m connectors.replay")
