"""Users' corporate actions (CSV file or JSON rows): what is accepted, how each bad row is named,
stable UUID ids; strict dates."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from connectors.replay.corporate_action_rows import (
    CorporateAction,
    CorporateActionError,
    parse_action,
    parse_actions,
    read_actions_csv,
)
from connectors.replay.dates import parse_day

HEADER = "symbol,type,ex_date,rate,new_rate,old_rate,record_date,payable_date\n"


def test_dividends_and_splits_from_json_values_and_csv_strings():
    dividend = parse_action(
        {
            "symbol": "GOOG",
            "type": "cash_dividend",
            "ex_date": "2012-06-01",
            "rate": 0.5,
            "new_rate": None,
            "record_date": "2012-06-04",
            "payable_date": "",
        }
    )
    assert dividend == CorporateAction(
        date(2012, 6, 1), "GOOG", "cash_dividend", rate=0.5, record_date=date(2012, 6, 4)
    )
    split = parse_action(
        {
            "symbol": " GOOG ",
            "type": "forward_split",
            "ex_date": "2014-04-03",
            "new_rate": "2",
            "old_rate": "1",
            "rate": "",
        }
    )
    assert (split.symbol, split.new_rate, split.old_rate, split.rate) == ("GOOG", 2.0, 1.0, None)
    reverse = parse_action(
        {
            "symbol": "X",
            "type": "reverse_split",
            "ex_date": "2020-01-02",
            "new_rate": 1,
            "old_rate": 10,
        }
    )
    assert (reverse.new_rate, reverse.old_rate) == (1.0, 10.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "stock_dividend"}, "type 'stock_dividend' is not one of"),
        ({"ex_date": "2012/06/01"}, "ex_date '2012/06/01' is not a date"),
        ({"ex_date": None}, "ex_date is missing"),
        ({"symbol": ""}, "symbol is missing"),
        ({"rate": None}, "rate is missing (a cash_dividend needs it)"),
        ({"rate": "abc"}, "rate 'abc' is not a positive number"),
        ({"rate": -1}, "rate -1 is not a positive number"),
        ({"rate": True}, "rate True is not a positive number"),
        ({"rate": "nan"}, "is not a positive number"),
        ({"record_date": "June 4"}, "record_date 'June 4' is not a date"),
        ({"ratio": 2}, "unknown column(s) ratio"),
    ],
)
def test_a_bad_dividend_row_says_what_is_wrong(change, message):
    row = {"symbol": "GOOG", "type": "cash_dividend", "ex_date": "2012-06-01", "rate": 0.5}
    with pytest.raises(CorporateActionError) as error:
        parse_action({**row, **change})
    assert message in str(error.value)


def test_split_rates_must_point_the_right_way():
    row = {"symbol": "GOOG", "ex_date": "2014-04-03", "new_rate": 1, "old_rate": 2}
    with pytest.raises(CorporateActionError, match="new_rate > old_rate"):
        parse_action({**row, "type": "forward_split"})
    with pytest.raises(CorporateActionError, match="new_rate < old_rate"):
        parse_action({**row, "type": "reverse_split", "new_rate": 2, "old_rate": 2})
    with pytest.raises(CorporateActionError, match="old_rate is missing"):
        parse_action({**row, "type": "forward_split", "old_rate": None})


def test_every_bad_row_and_every_repeat_is_named():
    good = {"symbol": "GOOG", "type": "cash_dividend", "ex_date": "2012-06-01", "rate": 0.5}
    rows = [good, {**good, "rate": 0}, good, {**good, "type": "split"}]
    with pytest.raises(CorporateActionError) as error:
        parse_actions(rows)
    assert str(error.value) == (
        "row 2: rate 0 is not a positive number; row 3: repeats row 1; "
        "row 4: type 'split' is not one of cash_dividend, forward_split, reverse_split"
    )


def test_ids_are_uuids_stable_across_runs_and_distinct_per_action():
    a = CorporateAction(date(2012, 6, 1), "GOOG", "cash_dividend", rate=0.5)
    b = CorporateAction(date(2012, 6, 1), "GOOG", "cash_dividend", rate=0.25)
    assert uuid.UUID(a.id).version == 5
    assert a.id == CorporateAction(date(2012, 6, 1), "GOOG", "cash_dividend", rate=0.5).id
    assert a.id != b.id
    assert parse_action(a.as_row()) == a


def test_csv_file_round_trip_and_errors_by_line(tmp_path):
    path = tmp_path / "actions.csv"
    path.write_text(
        HEADER + "GOOG,cash_dividend,2012-06-01,0.5,,,2012-06-04,2012-06-15\n"
        "GOOG,forward_split,2014-04-03,,2,1,,\n"
    )
    actions = read_actions_csv(path)
    assert [(a.type, a.ex_date, a.payable_date) for a in actions] == [
        ("cash_dividend", date(2012, 6, 1), date(2012, 6, 15)),
        ("forward_split", date(2014, 4, 3), None),
    ]

    path.write_text(
        HEADER + "GOOG,cash_dividend,2012-06-01,0.5,,,,\nGOOG,cash_dividend,x,1,,,,,9\n"
    )
    with pytest.raises(CorporateActionError) as error:
        read_actions_csv(path)
    assert str(error.value) == f"{path}: line 3: more fields than the header has columns"

    path.write_text("symbol,kind,ex_date\nGOOG,cash_dividend,2012-06-01\n")
    with pytest.raises(CorporateActionError, match="the header has no type column"):
        read_actions_csv(path)
    with pytest.raises(CorporateActionError, match=r"cannot read .*missing\.csv"):
        read_actions_csv(tmp_path / "missing.csv")


def test_a_header_only_file_has_no_actions(tmp_path):
    path = tmp_path / "none.csv"
    path.write_text(HEADER)
    assert read_actions_csv(path) == []


@pytest.mark.parametrize("text", ["20120601", "2012-6-1", "2012-02-30", "2012-06-01T00:00", ""])
def test_dates_are_yyyy_mm_dd_only(text):
    with pytest.raises(ValueError, match="is not a date: use YYYY-MM-DD"):
        parse_day(text)
    assert parse_day("2012-06-01") == date(2012, 6, 1)
