"""What the fuzz test demands of every answer of the GraphQL server, and its tally: the HTTP
status below 500, a JSON body with ``data`` or ``errors``, no stack trace anywhere, every error a
clear message, no internal error; each error counted by kind, each breach kept with the request
that caused it."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from graphql_server.errors import INTERNAL_ERROR_MESSAGE

# What a stack trace or a leaked exception looks like in a response.
TRACE_MARKERS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|"
    r"\b(?:KeyError|TypeError|ValueError|AttributeError|IndexError|OverflowError|"
    r"RuntimeError|AssertionError|ZeroDivisionError|RecursionError|NameError|"
    r"UnicodeEncodeError|UnicodeDecodeError|OSError|ApiException|OperationalError|"
    r"IntegrityError|ProgrammingError|sqlalchemy|psycopg|sqlite3)\b|root:x:0:0"
)
# The messages of InfluxDB refusing or missing: a hostile value reached a store unchecked.
BACKEND_MARKERS = ("InfluxDB refused", "InfluxDB at", "InfluxDB has no bucket")
EXAMPLES_PER_BREACH = 3
SHOWN_CHARS = 600


def error_kind(error: dict[str, Any]) -> str:
    """What kind of error: ``internal`` (masked), ``backend`` (a store refused), the code in its
    extensions (UNAUTHENTICATED, FORBIDDEN, a limit's), ``syntax``, ``variables`` (a variable's
    value refused), ``document`` (refused before running: unknown field, wrong type, a limit)
    or ``query`` (a resolver's clear refusal: bad symbol, range too long, ...)."""
    message = str(error.get("message") or "")
    code = (error.get("extensions") or {}).get("code")
    if message.startswith(INTERNAL_ERROR_MESSAGE[:21]):
        return "internal"
    if any(marker in message for marker in BACKEND_MARKERS):
        return "backend"
    if code:
        return str(code)
    if message.startswith("Syntax Error"):
        return "syntax"
    if message.startswith("Variable '$"):
        return "variables"
    return "document" if not error.get("path") else "query"


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + f"... ({len(text)} chars)"


@dataclass
class Tally:
    """Requests sent, answers with errors by kind, and breaches with examples."""

    sent: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    clean: int = 0
    answered_fields: int = 0
    longest_message: int = 0
    breaches: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def breach(self, what: str, request: str, response: str) -> None:
        self.breaches[what] += 1
        shown = self.examples.setdefault(what, [])
        if len(shown) < EXAMPLES_PER_BREACH:
            shown.append(f"request: {_clip(request)}\nresponse: {_clip(response)}")

    def check(self, phase: str, request: str, status: int, body: str) -> list[dict[str, Any]]:
        """Check one answer; the errors it carries (none when it is not JSON)."""
        self.sent[phase] += 1
        answer = self._parse(request, status, body)
        if answer is None:
            return []
        errors: list[dict[str, Any]] = answer.get("errors") or []
        if not errors:
            self.clean += 1
        data = answer.get("data")
        if isinstance(data, dict):
            self.answered_fields += sum(value is not None for value in data.values())
        for error in errors:
            kind = error_kind(error)
            self.kinds[kind] += 1
            self.longest_message = max(self.longest_message, len(str(error.get("message"))))
            if kind in ("internal", "backend"):
                self.breach(f"{kind} error", request, body)
            if not str(error.get("message") or "").strip():
                self.breach("error without a message", request, body)
        return errors

    def _parse(self, request: str, status: int, body: str) -> dict[str, Any] | None:
        if status >= 500:
            self.breach(f"HTTP {status}", request, body)
        if TRACE_MARKERS.search(body):
            self.breach("stack trace or exception name in the answer", request, body)
        try:
            answer = json.loads(body)
        except ValueError:
            self.breach(f"not JSON (HTTP {status})", request, body)
            return None
        if not isinstance(answer, dict) or not ("data" in answer or answer.get("errors")):
            self.breach("JSON without data or errors", request, body)
            return None
        return answer

    def report(self, seconds: float) -> list[str]:
        """The counts, as lines for the test log."""
        total = sum(self.sent.values())
        lines = [
            f"GraphQL fuzz: {total:,} requests in {seconds:.1f} s ({total / seconds:.0f}/s), "
            "hypothesis derandomize=True",
            "  sent: " + ", ".join(f"{phase} {n:,}" for phase, n in self.sent.items()),
            f"  answers without errors: {self.clean:,}; root fields answered with data: "
            f"{self.answered_fields:,}",
            "  errors by kind: "
            + ", ".join(f"{kind} {n:,}" for kind, n in self.kinds.most_common())
            + f"; the longest message {self.longest_message:,} characters",
            "  breaches: "
            + (", ".join(f"{what} {n:,}" for what, n in self.breaches.items()) or "none"),
        ]
        for what, shown in self.examples.items():
            lines.append(f"  -- {what}:")
            lines.extend("     " + line for example in shown for line in example.splitlines())
        return lines
