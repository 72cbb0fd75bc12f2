"""The keyed function reads its input rows by position: the positions must be the columns
the SQL view gives it, in its order."""

from __future__ import annotations

import re

from jobs.narwhal.process import BAR_WIDTH, FAMILY_POSITIONS, prediction_type
from jobs.narwhal.sql import stream_input_view
from jobs.narwhal.window import BAR_VALUES, FAMILY_COLUMNS
from ml.features import INDICATOR_COLUMNS
from streamlines.contracts.events import Prediction


def _columns_of_first_select() -> list[str]:
    """The output column names of the view's first SELECT (bars)."""
    select = stream_input_view().split("SELECT", 1)[1].split("FROM", 1)[0]
    names = []
    for item in re.split(r",\s*(?![^()]*\))", select.strip()):
        alias = re.search(r"AS\s+`?(\w+)`?\s*$", item.strip())
        names.append(alias.group(1) if alias else item.strip().strip("`"))
    return names


def test_positions_match_the_view() -> None:
    columns = _columns_of_first_select()
    assert columns[:3] == ["symbol", "t_ns", "kind"]
    values = columns[3:]  # what process_element gets after symbol, t_ns, kind
    assert tuple(values[:BAR_WIDTH]) == BAR_VALUES
    for family, positions in FAMILY_POSITIONS.items():
        assert [c for c, _ in positions] == list(FAMILY_COLUMNS[family])
        for column, index in positions:
            assert values[index] == column
    assert len(values) == BAR_WIDTH + len(INDICATOR_COLUMNS)


def test_prediction_rows_are_the_contract() -> None:
    assert prediction_type().get_field_names() == list(Prediction.model_fields)
