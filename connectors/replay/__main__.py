"""``python -m connectors.replay serve --port N``: the ``streamlines replay`` commands on their
own (a process that loads no other command), errors reported as ``streamlines`` reports them."""

from connectors.replay.cli import app
from streamlines.errors import reporting_user_errors

if __name__ == "__main__":
    with reporting_user_errors():
        app(prog_name="python -m connectors.replay")
