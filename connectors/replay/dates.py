"""Calendar dates as the date-filtered APIs take them (Alpaca's corporate actions, Nasdaq Data
Link): ``YYYY-MM-DD`` and nothing else, so ``20240105`` or ``2024-1-5`` are refused rather than
read some way the client did not mean."""

from __future__ import annotations

import re
from datetime import date

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(text: str) -> date:
    """``text`` (``YYYY-MM-DD``) as a date; ``ValueError`` for anything else."""
    try:
        if _DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:  # 2012-02-30
        pass
    raise ValueError(f"{text!r} is not a date: use YYYY-MM-DD")
