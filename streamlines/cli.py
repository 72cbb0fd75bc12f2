"""The ``streamlines`` command line. Every command has ``--help``."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from pydantic import ValidationError

from connectors.fundamentals.cli import fundamentals
from connectors.gather.cli import gather
from connectors.ingest.cli import ingest
from connectors.replay.cli import app as replay_app
from connectors.sinks.cli import app as sink_app
from graphql_server.cli import app as graphql_app
from ml.cli import app as ml_app
from streamlines.demo.cli import demo
from streamlines.errors import reporting_user_errors
from streamlines.logs import configure_logging
from streamlines.metadata.cli import db_app, keys_app, users_app
from streamlines.settings import settings_error
from streamlines.stack.cli import app as stack_app
from streamlines.submit.cli import app as jobs_app

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    help="Stream Lines: streaming market analytics on a real local stack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack_app, name="stack")
app.add_typer(replay_app, name="replay")
app.add_typer(sink_app, name="sink")
app.add_typer(jobs_app, name="jobs")
app.add_typer(graphql_app, name="graphql")
app.add_typer(ml_app, name="ml")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.command()(demo)
app.command("ingest")(ingest)
# `streamlines gather` gathers bars (its own options); `streamlines gather fundamentals`, the
# fundamentals.
gather_app = typer.Typer(pretty_exceptions_enable=False, subcommand_metavar="[fundamentals ...]")
gather_app.callback(invoke_without_command=True)(gather)
gather_app.command(
    "fundamentals",
    short_help="Fundamentals (earnings, dividends, E10, announcements, splits) instead of bars.",
)(fundamentals)
app.add_typer(gather_app, name="gather")


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug detail.")] = False,
) -> None:
    configure_logging(logging.DEBUG if verbose else logging.INFO)


def main() -> None:
    """Entry point: user errors print as one message; anything else without a stack trace
    unless --verbose, where the traceback is logged for debugging."""
    try:
        with reporting_user_errors():
            app()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except ValidationError as exc:  # a command's Settings(): a setting that is not valid
        typer.echo(f"error: {settings_error(exc)}", err=True)
        raise SystemExit(1) from None
    except Exception as exc:
        logging.getLogger("streamlines").debug("unexpected error", exc_info=True)
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {exc}\n"
            "  fix: run again with `streamlines -v ...` for details; please report it.",
            err=True,
        )
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
