"""Alpaca's corporate-actions endpoint, its pure parts: parameters, filters, order, pages that
chain to the end, and rows that alpaca-py's own models parse."""

from __future__ import annotations

from datetime import date

import pytest
from alpaca.data.models.corporate_actions import CorporateActionsSet

from connectors.replay.corporate_action_rows import CorporateAction
from connectors.replay.corporate_actions import (
    ActionsQuery,
    actions_page,
    matching,
    parse_query,
    render,
)
from connectors.replay.rest import RequestError

ACTIONS = [
    CorporateAction(date(2014, 4, 3), "GOOG", "forward_split", new_rate=2, old_rate=1),
    CorporateAction(date(2012, 6, 1), "GOOG", "cash_dividend", rate=0.5),
    CorporateAction(
        date(2012, 6, 1),
        "AAPL",
        "cash_dividend",
        rate=2.65,
        record_date=date(2012, 6, 4),
        payable_date=date(2012, 6, 15),
    ),
    CorporateAction(date(2013, 1, 2), "XYZ", "reverse_split", new_rate=1, old_rate=10),
    CorporateAction(date(2012, 6, 1), "AAPL", "cash_dividend", rate=1.0),
]


def _keys(actions):
    return [(a.ex_date.isoformat(), a.symbol, a.type, a.rate) for a in actions]


def test_ordered_by_ex_date_then_symbol_and_type_both_ways():
    ascending = matching(ACTIONS, ActionsQuery())
    assert [k[:3] for k in _keys(ascending)] == [
        ("2012-06-01", "AAPL", "cash_dividend"),
        ("2012-06-01", "AAPL", "cash_dividend"),  # two on one day: by id
        ("2012-06-01", "GOOG", "cash_dividend"),
        ("2013-01-02", "XYZ", "reverse_split"),
        ("2014-04-03", "GOOG", "forward_split"),
    ]
    assert ascending[0].id < ascending[1].id
    assert matching(ACTIONS, ActionsQuery(descending=True)) == ascending[::-1]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"symbols": "GOOG"}, {("2012-06-01", "GOOG"), ("2014-04-03", "GOOG")}),
        ({"symbols": "GOOG, XYZ", "types": "reverse_split"}, {("2013-01-02", "XYZ")}),
        (
            {"start": "2013-01-02", "end": "2014-04-03"},
            {("2013-01-02", "XYZ"), ("2014-04-03", "GOOG")},
        ),
        ({"end": "2012-06-01", "symbols": "GOOG"}, {("2012-06-01", "GOOG")}),
        ({"types": "spin_off,name_change"}, set()),
        ({"cusips": "38259P508"}, set()),
        ({"symbols": "MSFT"}, set()),
    ],
)
def test_filters(params, expected):
    kept = matching(ACTIONS, parse_query(params))
    assert {(a.ex_date.isoformat(), a.symbol) for a in kept} == expected


def test_ids_select_exactly_those_actions():
    wanted = {ACTIONS[0].id, ACTIONS[3].id}
    assert set(matching(ACTIONS, parse_query({"ids": ",".join(wanted)}))) == {
        ACTIONS[0],
        ACTIONS[3],
    }


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 100])
@pytest.mark.parametrize("sort", ["asc", "desc"])
def test_pages_hold_at_most_limit_and_chain_to_every_action_once(limit, sort):
    expected = matching(ACTIONS, ActionsQuery(descending=sort == "desc"))
    seen: list[str] = []
    params = {"limit": str(limit), "sort": sort}
    pages = 0
    while True:
        body = actions_page(ACTIONS, parse_query(params))
        groups = body["corporate_actions"]
        assert set(groups) == {"cash_dividends", "forward_splits", "reverse_splits"}
        page = [row["id"] for rows in groups.values() for row in rows]
        assert len(page) == min(limit, len(expected) - len(seen))
        seen += page
        pages += 1
        if body["next_page_token"] is None:
            break
        params["page_token"] = body["next_page_token"]
    assert sorted(seen) == sorted(a.id for a in expected)
    assert pages == -(-len(expected) // limit)


def test_rows_are_what_alpaca_py_parses():
    raw: dict[str, list[dict]] = {"cash_dividends": [], "forward_splits": [], "reverse_splits": []}
    for action in ACTIONS:
        raw[f"{action.type}s"].append(render(action))
    parsed = CorporateActionsSet(raw)
    dividend = next(d for d in parsed["cash_dividends"] if d.rate == 2.65)
    assert (dividend.ex_date, dividend.record_date, dividend.payable_date) == (
        date(2012, 6, 1),
        date(2012, 6, 4),
        date(2012, 6, 15),
    )
    assert dividend.process_date == date(2012, 6, 15)  # a dividend's: its payable date
    assert str(dividend.id) == ACTIONS[2].id
    (split,) = parsed["forward_splits"]
    assert (split.symbol, split.new_rate, split.old_rate) == ("GOOG", 2.0, 1.0)
    assert split.process_date == split.ex_date == date(2014, 4, 3)
    (reverse,) = parsed["reverse_splits"]
    assert (reverse.new_rate, reverse.old_rate, reverse.old_cusip) == (1.0, 10.0, "")


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"types": "cash_dividend,dividend"}, 400, "invalid types: dividend"),
        ({"sort": "newest"}, 400, "sort must be asc or desc"),
        ({"limit": "ten"}, 400, "invalid limit 'ten'"),
        ({"limit": "1001"}, 422, "must be 1 to 1000"),
        ({"limit": "0"}, 422, "must be 1 to 1000"),
        ({"start": "2012-06"}, 400, "invalid start: '2012-06' (use YYYY-MM-DD)"),
        ({"ids": "x", "symbols": "GOOG"}, 400, "ids cannot be combined with symbols"),
    ],
)
def test_bad_parameters_are_named(params, status, message):
    with pytest.raises(RequestError) as error:
        parse_query(params)
    assert error.value.status == status
    assert message in error.value.message


def test_a_forged_page_token_is_refused():
    with pytest.raises(RequestError, match="invalid page_token"):
        actions_page(ACTIONS, parse_query({"page_token": "bm90IGEgdG9rZW4="}))


def test_default_limit_is_100():
    many = [
        CorporateAction(date(2000, 1, 1 + i % 28), f"S{i:03}", "cash_dividend", rate=1.0)
        for i in range(150)
    ]
    body = actions_page(many, parse_query({}))
    assert len(body["corporate_actions"]["cash_dividends"]) == 100
    assert body["next_page_token"] is not None
