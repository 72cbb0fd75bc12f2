"""Whether two sets of ripples-shaped records are the same: every ``(metric, symbol, t_ns)`` in
both, no more, no fewer, and every value equal within 1e-9 relative (null exactly where the
other is null); a mean log return, a sum of terms that can cancel to ~0, also within 1e-15
absolute (as ``tests/references/ripples.py`` holds the job to pandas)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

RTOL = 1e-9
ATOL = {"ret_mean": 1e-15}

Key = tuple[str, str, int]  # (metric, symbol, t_ns)


def by_key(records: Iterable[Mapping[str, Any]]) -> dict[Key, Mapping[str, Any]]:
    """Records by (metric, symbol, t_ns); a key twice is an error (no system should repeat a
    record on a run without failures)."""
    keyed: dict[Key, Mapping[str, Any]] = {}
    for r in records:
        key = (r["metric"], r["symbol"], int(r["t_ns"]))
        if key in keyed:
            raise ValueError(f"record {key} twice")
        keyed[key] = r["values"]
    return keyed


def value_differs(got: Any, want: Any, name: str) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return not (got is None or (isinstance(got, float) and math.isnan(got)))
    if got is None:
        return True
    return not math.isclose(got, want, rel_tol=RTOL, abs_tol=ATOL.get(name, 0.0))


def differences(
    received: Iterable[Mapping[str, Any]],
    expected: Iterable[Mapping[str, Any]],
    metrics: Iterable[str] | None = None,
    limit: int = 10,
) -> list[str]:
    """What differs between ``received`` and ``expected`` (at most ``limit`` lines, then a
    count); empty when they are the same. ``metrics``: compare only these (a system that does
    less, like the Python baseline without the spread)."""
    wanted = set(metrics) if metrics is not None else None
    got = {k: v for k, v in by_key(received).items() if wanted is None or k[0] in wanted}
    want = {k: v for k, v in by_key(expected).items() if wanted is None or k[0] in wanted}
    lines = [f"missing {key}" for key in sorted(want.keys() - got.keys())]
    lines += [f"unexpected {key}" for key in sorted(got.keys() - want.keys())]
    for key in sorted(want.keys() & got.keys()):
        names = sorted(set(want[key]) | set(got[key]))
        wrong = [
            f"{n} {got[key].get(n)!r} != {want[key].get(n)!r}"
            for n in names
            if value_differs(got[key].get(n), want[key].get(n), n)
        ]
        if wrong:
            lines.append(f"{key}: {', '.join(wrong)}")
    if len(lines) > limit:
        return [*lines[:limit], f"... and {len(lines) - limit} more"]
    return lines
