"""streamlines.errors: the one way entry points report a UserError."""

from __future__ import annotations

import pytest

from streamlines.errors import UserError, reporting_user_errors


def test_a_user_error_is_printed_with_its_fix_and_exits_1(capsys):
    with pytest.raises(SystemExit) as exit_info, reporting_user_errors():
        raise UserError("quotes topic q does not exist", "check --quotes-topic")
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == (
        "error: quotes topic q does not exist\n  fix: check --quotes-topic\n"
    )
