"""What several commands parse the same way: times (``--start``, ``--end``) and symbol lists
(``--symbols``). Errors are ``UserError``s naming the option and the form it wants."""

from __future__ import annotations

from datetime import UTC, datetime

from streamlines.errors import UserError


def parse_time(text: str, option: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 / RFC 3339 time; naive means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{option} {text!r} is not a date or time",
            "use a date like 2012-01-03 or a UTC time like 2012-01-03T14:30:00Z",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_symbols(text: str | None) -> list[str]:
    if text is None:
        return []
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    return list(dict.fromkeys(symbols))
