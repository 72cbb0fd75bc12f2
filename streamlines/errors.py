"""Errors meant for users: the message says what went wrong and how to fix it."""

from __future__ import annotations


class UserError(Exception):
    """An error whose message is shown to the user as is, without a stack trace."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}\n  fix: {self.hint}" if self.hint else text
