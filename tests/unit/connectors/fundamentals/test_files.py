"""Users' CSV and Parquet files: good rows become records, bad rows problems with their row
number, and a file that is not of this form a clear error before anything is written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from connectors.fundamentals.files import file_candidates
from streamlines.errors import UserError

CSV = """symbol,date,t_ns,fact,value,source,estimate,period_end_ns,revision
GOOG,2012-01-20,,earnings_announcement,9.5,,9.7,,
GOOG,,1327089600000000000,dividend,0.5,broker,,,1
GOOG,2012-13-01,,dividend,0.5,,,,
GOOG,2012-01-20,,dividend,lots,,,,
GOOG,,,split,2,,,,
GOOG,2012-01-20,1327089600000000000,split,2,,,,
GOOG,2012-01-20,,split,2,,,,1.5
"""


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_rows_become_records_and_bad_rows_problems_with_their_number(tmp_path):
    candidates = file_candidates(write(tmp_path, CSV))
    assert [c.where for c in candidates] == [f"row {n}" for n in range(1, 8)]
    first, second = (c.record for c in candidates[:2])
    assert first == {
        "symbol": "GOOG",
        "fact": "earnings_announcement",
        "value": 9.5,
        "estimate": 9.7,
        "source": "file",
        "t_ns": 1_327_017_600_000_000_000,
    }  # fmt: skip  (00:00 UTC)
    assert second == {"symbol": "GOOG", "t_ns": 1_327_089_600_000_000_000, "fact": "dividend",
                      "value": 0.5, "source": "broker", "revision": 1}  # fmt: skip
    problems = [c.problem for c in candidates[2:]]
    assert problems == [
        "invalid fundamental: date: '2012-13-01' is not YYYY-MM-DD",
        "invalid fundamental: value: 'lots' is not a number",
        "invalid fundamental: no t_ns or date: when the value became valid",
        "invalid fundamental: t_ns and date are both given: keep one",
        "invalid fundamental: revision: '1.5' is not a whole number",
    ]
    assert all(c.record is None for c in candidates[2:])
    assert candidates[3].raw["value"] == "lots"  # the row as read goes to the dead letter


def test_parquet_keeps_its_types_and_large_t_ns_exactly(tmp_path):
    path = tmp_path / "f.parquet"
    t_ns = pd.array([1_327_089_600_123_456_789, None], dtype="Int64")
    frame = pd.DataFrame({"symbol": ["SP500", "SP500"], "t_ns": t_ns,
                          "date": [None, "2012-02-01"], "fact": ["earnings_ttm"] * 2,
                          "value": [86.95, float("nan")]})  # fmt: skip
    frame.to_parquet(path)
    good, missing_value = file_candidates(path)
    assert good.record == {"symbol": "SP500", "t_ns": 1_327_089_600_123_456_789,
                           "fact": "earnings_ttm", "value": 86.95, "source": "file"}  # fmt: skip
    # No value: the schema's check (the service's) names it; the reader leaves it out.
    assert missing_value.record == {"symbol": "SP500", "fact": "earnings_ttm", "source": "file",
                                    "t_ns": 1_328_054_400_000_000_000}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("symbol,fact,value\nGOOG,split,2\n", "no column t_ns or date"),
        ("symbol,date,value\nGOOG,2012-01-03,2\n", "no column fact"),
        ("symbol,date,fact,value,note\nGOOG,2012-01-03,split,2,x\n", "unknown column note"),
    ],
)
def test_a_file_of_another_form_is_a_user_error(tmp_path, text, message):
    with pytest.raises(UserError, match=message) as info:
        file_candidates(write(tmp_path, text))
    assert "symbol, fact, value" in str(info.value.hint)


def test_a_missing_or_unreadable_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no file"):
        file_candidates(tmp_path / "nope.csv")
    with pytest.raises(UserError, match="cannot read"):
        file_candidates(write(tmp_path, "not parquet", "f.parquet"))
