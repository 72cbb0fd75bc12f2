"""How a received value is held to a reference one: equal within 1e-9 relative, null exactly
where the reference has none (NaN or None)."""

from __future__ import annotations

import math

RTOL = 1e-9


def assert_close(
    received: dict, expected: dict, what: str, abs_tol: dict[str, float] | None = None
) -> None:
    """Every field of ``expected`` in ``received``; ``abs_tol`` gives some fields an absolute
    tolerance too (for values that are differences of nearly equal numbers)."""
    for name, want in expected.items():
        got = received.get(name)
        if want is None or (isinstance(want, float) and math.isnan(want)):
            assert got is None, f"{what} {name}: {got} != null"
        else:
            assert got is not None, f"{what} {name}: null != {want}"
            tolerance = (abs_tol or {}).get(name, 0.0)
            assert math.isclose(got, want, rel_tol=RTOL, abs_tol=tolerance), (
                f"{what} {name}: {got!r} != {want!r}"
            )
