"""Running the worked examples a scheme carries (its ``tests:``).

Each test is one row and what scoring it must give. :func:`run_tests` scores every row
with the scheme and compares only what the expectation sets::

    >>> import perfkit as pk
    >>> report = run_tests(pk.load_scheme(pk.example_path("sales-quarterly.yaml")))
    >>> report.ok, report.failed
    (True, 0)

A case fails with the fields that differ; a row that fails to score is a failed case that
shows the error (unless the test expects that error), never an exception. The command
``perfkit test SCHEME...`` prints the same reports.

How each expectation field is read from a score card and compared lives in one table,
:data:`CHECKS`; a new expectation field needs a new entry there (``error`` is the one
field checked apart, since it expects no card at all).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from perfkit.errors import DataError
from perfkit.rules.scorecard import ScoreCard
from perfkit.scheme import Scheme, SchemeTest

__all__ = ["CHECKS", "CaseResult", "Difference", "TestReport", "run_tests"]


@attrs.frozen
class Difference:
    """One field where the score card is not what the test expects.

    ``field`` is the expectation field (``kpis.revenue`` for one KPI); ``expected`` and
    ``actual`` are the values (sets as sorted tuples; ``actual`` is None when there is no
    value, such as a KPI the scheme does not have). ``message``, when set, says it in words.
    """

    field: str
    expected: Any
    actual: Any
    message: str | None = None

    def to_text(self) -> str:
        if self.message is not None:
            return f"{self.field}: {self.message}"
        return f"{self.field}: expected {_show(self.expected)}, got {_show(self.actual)}"

    def to_dict(self) -> dict[str, Any]:
        data = {"field": self.field, "expected": _plain(self.expected), "actual": _plain(self.actual)}
        if self.message is not None:
            data["message"] = self.message
        return data


@attrs.frozen
class CaseResult:
    """The outcome of one test: passed when there is no difference."""

    name: str
    differences: tuple[Difference, ...] = ()
    description: str | None = None

    @property
    def passed(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "passed": self.passed,
            "differences": [d.to_dict() for d in self.differences],
        }


@attrs.frozen
class TestReport:
    """The outcome of every test of one scheme."""

    __test__ = False  # not a pytest test class, whatever its name

    scheme_id: str
    cases: tuple[CaseResult, ...]

    @property
    def ok(self) -> bool:
        """True when every test passed (also when there are none)."""
        return all(case.passed for case in self.cases)

    @property
    def passed(self) -> int:
        return sum(case.passed for case in self.cases)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed

    def summary(self) -> str:
        """``4 tests, all passed`` / ``4 tests, 1 failed`` / ``no tests``."""
        if not self.cases:
            return "no tests"
        count = f"{len(self.cases)} test{'s' if len(self.cases) != 1 else ''}"
        return f"{count}, all passed" if self.ok else f"{count}, {self.failed} failed"

    def to_text(self, title: str | None = None) -> str:
        """A readable report: a summary line, then ✓ or ✗ and the differences per test.

        ``title`` heads the summary (a file name, say); by default, the scheme id.
        """
        lines = [f"{title or f'scheme {self.scheme_id}'}: {self.summary()}"]
        for case in self.cases:
            lines.append(f"  {'✓' if case.passed else '✗'} {case.name}")
            for difference in case.differences:
                lines.append("      " + difference.to_text().replace("\n", "\n        "))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme_id,
            "ok": self.ok,
            "passed": self.passed,
            "failed": self.failed,
            "tests": [case.to_dict() for case in self.cases],
        }


def run_tests(scheme: Scheme) -> TestReport:
    """Score every test row of ``scheme`` and compare the cards with the expectations.

    A row without ``employee_id`` is scored with the test's name as its id.
    """
    compiled = scheme.compile()
    cases = []
    for test in scheme.tests:
        row = dict(test.inputs)
        row.setdefault("employee_id", test.name)
        card: ScoreCard | None = None
        failure: DataError | None = None
        try:
            card = compiled.evaluate([row]).cards[0]
        except DataError as exc:
            failure = exc
        cases.append(CaseResult(test.name, tuple(_compare(test, card, failure)), test.description))
    return TestReport(scheme.id, tuple(cases))


# -- comparing ------------------------------------------------------------------------------

Compare = Callable[[str, Any, Any], list[Difference]]
"""``(field, expected, actual)`` → the differences (none when they agree)."""


def same_value(field: str, expected: Any, actual: Any) -> list[Difference]:
    """Equal values; decimals compare exactly by value (``88.4`` equals ``88.40``)."""
    return [] if expected == actual else [Difference(field, expected, actual)]


def same_set(field: str, expected: Any, actual: Any) -> list[Difference]:
    """The same members, in any order."""
    want, got = frozenset(expected), frozenset(actual)
    return [] if want == got else [Difference(field, tuple(sorted(want)), tuple(sorted(got)))]


def same_items(field: str, expected: Any, actual: Any) -> list[Difference]:
    """Each key the test lists has its value (keys it leaves out are not checked)."""
    differences = []
    for key, value in expected.items():
        if key not in actual:
            known = ", ".join(str(k) for k in actual) or "none"
            message = f"expected {_show(value)}, but the card has no {key!r} (it has: {known})"
            differences.append(Difference(f"{field}.{key}", value, None, message))
        else:
            differences.extend(same_value(f"{field}.{key}", value, actual[key]))
    return differences


CHECKS: dict[str, tuple[Callable[[ScoreCard], Any], Compare]] = {
    "kpis": (lambda card: card.kpi_scores, same_items),
    "base_total": (lambda card: card.base_total, same_value),
    "points": (lambda card: {p.rule_id: p.points for p in card.points}, same_items),
    "total": (lambda card: card.total, same_value),
    "band_grade": (lambda card: card.band_grade, same_value),
    "grade": (lambda card: card.grade, same_value),
    "flags": (lambda card: card.flags, same_set),
    "rules": (lambda card: card.rules, same_set),
    "ineligible": (lambda card: card.ineligible, same_set),
    "alerts": (lambda card: tuple(alert.message for alert in card.alerts), same_set),
    "review_required": (lambda card: card.review_required, same_value),
}
"""Expectation field → (how to read it from a score card, how to compare)."""

_ERROR = "error"


def _compare(test: SchemeTest, card: ScoreCard | None, failure: DataError | None) -> list[Difference]:
    expect = test.expect
    wanted = {
        name: getattr(expect, name)
        for name in type(expect).model_fields
        if name in expect.model_fields_set and getattr(expect, name) is not None
    }
    differences = []
    wanted_error = wanted.pop(_ERROR, None)
    if failure is not None:
        message = str(failure)
        if wanted_error is None:
            differences.append(Difference(_ERROR, None, message, f"the row failed: {message}"))
        elif wanted_error not in message:
            differences.append(
                Difference(_ERROR, wanted_error, message, f"expected an error containing {wanted_error!r}, got: {message}")
            )
        for name, value in wanted.items():
            if wanted_error is not None:
                differences.append(Difference(name, value, None, "cannot be checked: the row failed, as expected"))
        return differences
    assert card is not None
    if wanted_error is not None:
        differences.append(
            Difference(
                _ERROR,
                wanted_error,
                None,
                f"expected an error containing {wanted_error!r}, but the row was scored "
                f"(total {card.total}, grade {card.grade})",
            )
        )
    for name, value in wanted.items():
        if name not in CHECKS:
            differences.append(Difference(name, value, None, "perfkit test cannot check this field"))
            continue
        read, compare = CHECKS[name]
        differences.extend(compare(name, value, read(card)))
    return differences


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (tuple, list, set, frozenset)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _plain(value: Any) -> Any:
    """JSON-ready: decimals as text (so they stay exact), tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (tuple, list, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
