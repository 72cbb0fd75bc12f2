"""Errors meant for users: the message says what went wrong and how to fix it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class UserError(Exception):
    """An error whose message is shown to the user as is, without a stack trace."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}\n  fix: {self.hint}" if self.hint else text


@contextmanager
def reporting_user_errors() -> Iterator[None]:
    """The one way an entry point reports a ``UserError`` (``streamlines``'s main, ``python -m``
    of the replay server and of the jobs, which also run under ``flink run -py``): its message
    on stderr as ``error: ...`` / ``  fix: ...``, no traceback, exit status 1."""
    try:
        yield
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
