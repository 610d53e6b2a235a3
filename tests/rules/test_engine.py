"""Evaluating a compiled scheme over rows: scores, grades, rules, bad data, outputs."""

from __future__ import annotations

import copy
import threading
from decimal import Decimal
from typing import Any

import pytest

import perfkit as pk

SCHEME = """\
perfkit: 1
id: engine-test
version: "3"
inputs:
  a: {min: 0, max: 100}
  b: {min: 0, max: 100, default: 50}
  rate: {unit: ratio}
kpis:
  - {id: ka, weight: 50%, score: a}
  - {id: kb, weight: 50%, score: b}
rules:
  - {id: low-rate-cap, when: rate < 0.8, then: {cap_grade: B}, reason: rate below 80%}
  - {id: lower-cap, when: rate < 0.5, then: {cap_grade: C}}
  - {id: floor, when: b >= 99, then: {floor_grade: B}}
  - {id: flagged, when: a < 10, then: {flag: check_me}}
grades:
  - {grade: A, min_score: 85, multiplier: 1.2}
  - {grade: B, min_score: 70, multiplier: 1}
  - {grade: C, min_score: 0, multiplier: 0.5}
"""


@pytest.fixture(scope="module")
def compiled() -> pk.CompiledScheme:
    return pk.Scheme.from_yaml(SCHEME).compile()


def row(employee_id: Any = "e1", **values: Any) -> dict[str, Any]:
    return {"employee_id": employee_id, "a": 90, "b": 90, "rate": 1, **values}


class TestScoring:
    def test_weighted_total_of_rounded_kpis(self, compiled: pk.CompiledScheme) -> None:
        card = compiled.evaluate([row(a="84.994", b="85.0049")])["e1"]
        assert card.kpi_scores == {"ka": Decimal("84.99"), "kb": Decimal("85.00")}
        assert card.total == Decimal("85.00")  # (84.99 + 85.00) / 2 = 84.995 → half-up
        assert card.band_grade == card.grade == "A"
        assert card.multiplier == Decimal("1.2")

    def test_default_fills_an_empty_input(self, compiled: pk.CompiledScheme) -> None:
        card = compiled.evaluate([{"employee_id": "e1", "a": 70, "rate": 1, "b": ""}])["e1"]
        assert card.input("b") == Decimal(50) and card.total == Decimal("60.00")

    def test_most_restrictive_cap_wins_and_every_fired_rule_is_recorded(self, compiled: pk.CompiledScheme) -> None:
        card = compiled.evaluate([row(rate=0.4)])["e1"]
        assert (card.band_grade, card.grade) == ("A", "C")
        assert card.rules == ("low-rate-cap", "lower-cap")
        assert card.fired[0].reason == "rate below 80%"

    def test_floor_raises_a_grade_but_a_cap_beats_a_floor(self, compiled: pk.CompiledScheme) -> None:
        floored = compiled.evaluate([row(a=0, b=100)])["e1"]
        assert (floored.band_grade, floored.grade, floored.flags) == ("C", "B", ("check_me",))
        capped = compiled.evaluate([row(a=0, b=100, rate=0.4)])["e1"]
        assert capped.grade == "C"

    def test_rules_compare_rounded_values(self) -> None:
        text = SCHEME.replace("score: a}", "score: a / 3}").replace(
            "{id: flagged, when: a < 10, then: {flag: check_me}}", "{id: exact, when: ka == 3.33, then: {flag: rounded}}"
        )
        card = pk.evaluate(pk.Scheme.from_yaml(text), [row(a=10)])["e1"]
        assert card.score("ka") == Decimal("3.33") and card.flags == ("rounded",)

    def test_total_formula(self) -> None:
        text = SCHEME.replace("rules:", "total: min(ka, kb) + 1\nrules:")
        card = pk.evaluate(pk.Scheme.from_yaml(text), [row(a=60, b=80)])["e1"]
        assert card.total == Decimal("61.00")

    def test_cards_are_sorted_and_ids_are_text(self, compiled: pk.CompiledScheme) -> None:
        result = compiled.evaluate([row("b"), row(2), row("a")])
        assert [c.employee_id for c in result] == ["2", "a", "b"]
        assert result.scheme_id == "engine-test" and result.scheme_version == "3"

    def test_other_columns_pass_through(self, compiled: pk.CompiledScheme) -> None:
        card = compiled.evaluate([row(department="华东", manager="m1")])["e1"]
        assert dict(card.attributes) == {"department": "华东", "manager": "m1"}

    def test_inputs_are_not_mutated(self, compiled: pk.CompiledScheme) -> None:
        rows = [row(a=0.1), row("e2", b=None)]
        before = copy.deepcopy(rows)
        compiled.evaluate(rows)
        assert rows == before

    def test_score_card_is_immutable(self, compiled: pk.CompiledScheme) -> None:
        card = compiled.evaluate([row()])["e1"]
        with pytest.raises(AttributeError):
            card.grade = "A"  # type: ignore[misc]

    def test_thread_safe_sharing(self, compiled: pk.CompiledScheme) -> None:
        rows = [row(str(i), a=i % 100, b=(i * 7) % 100, rate=Decimal(i % 10) / 10) for i in range(300)]
        expected = compiled.evaluate(rows)
        results: list[pk.Evaluation] = []

        def work() -> None:
            results.append(compiled.evaluate(rows))

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 4 and all(r == expected for r in results)


class TestBadData:
    @pytest.mark.parametrize(
        ("values", "column", "fragment"),
        [
            ({"a": None}, "a", "required input is missing"),
            ({"a": "abc"}, "a", "'abc' is not a number"),
            ({"a": float("nan")}, "a", "NaN"),
            ({"a": float("inf")}, "a", "NaN and infinite"),
            ({"a": True}, "a", "true/false"),
            ({"a": 101}, "a", "outside the declared range 0..100"),
            ({"a": -1}, "a", "outside the declared range"),
        ],
    )
    def test_each_bad_cell_names_employee_and_column(
        self, compiled: pk.CompiledScheme, values: dict[str, Any], column: str, fragment: str
    ) -> None:
        with pytest.raises(pk.DataError) as info:
            compiled.evaluate([row("ok"), row("bad", **values)])
        error = info.value
        assert (error.employee_id, error.column, error.row) == ("bad", column, 1)
        assert fragment in str(error)

    def test_misspelt_column_gets_a_hint(self, compiled: pk.CompiledScheme) -> None:
        bad = row()
        bad["rat"] = bad.pop("rate")
        with pytest.raises(pk.DataError, match="the row has a column 'rat'"):
            compiled.evaluate([bad])

    def test_missing_employee_id(self, compiled: pk.CompiledScheme) -> None:
        with pytest.raises(pk.DataError) as info:
            compiled.evaluate([{"a": 1, "b": 1, "rate": 1}])
        assert info.value.column == "employee_id" and info.value.row == 0

    def test_duplicate_ids_are_reported_and_none_is_scored(self, compiled: pk.CompiledScheme) -> None:
        with pytest.raises(pk.DataError, match="appears 2 times"):
            compiled.evaluate([row("x"), row("y"), row("x")])
        result = compiled.evaluate([row("x"), row("y"), row("x")], errors="collect")
        assert [c.employee_id for c in result] == ["y"]
        (problem,) = result.problems
        assert problem.employee_id == "x" and "rows 0, 2" in problem.message

    def test_collect_scores_every_good_row_and_lists_every_bad_one(self, compiled: pk.CompiledScheme) -> None:
        rows = [row("g1"), row("b1", a="x", rate=None), row("g2"), row("b2", a=500)]
        result = compiled.evaluate(rows, errors="collect")
        assert [c.employee_id for c in result] == ["g1", "g2"]
        assert [p.employee_id for p in result.problems] == ["b1", "b2"]
        assert not result.ok
        both = result.problems[0]
        assert {p.column for p in both.problems} == {"a", "rate"}
        assert str(both) == (
            "employee 'b1': column 'a': 'x' is not a number; column 'rate': the required input is missing"
        )

    def test_division_by_zero_names_employee_formula_and_place(self) -> None:
        text = SCHEME.replace("score: a}", "score: a / (b - 50)}").replace("b: {min: 0, max: 100, default: 50}", "b: {min: 0, max: 100}")
        scheme = pk.Scheme.from_yaml(text.replace("{grade: C, min_score: 0, multiplier: 0.5}", "{grade: C, multiplier: 0.5}"))
        with pytest.raises(pk.DataError) as info:
            pk.evaluate(scheme, [row("z", b=50)])
        error = info.value
        assert error.employee_id == "z" and error.path == "kpis[0].score" and error.formula == "a / (b - 50)"
        assert "division by zero" in error.message and "ratio(" in error.message

    def test_bad_errors_argument(self, compiled: pk.CompiledScheme) -> None:
        with pytest.raises(ValueError, match="errors must be"):
            compiled.evaluate([row()], errors="ignore")  # type: ignore[arg-type]

    def test_rows_must_be_mappings(self, compiled: pk.CompiledScheme) -> None:
        with pytest.raises(pk.DataError):
            compiled.evaluate(row())  # a single mapping, not a list of them
        with pytest.raises(pk.DataError) as info:
            compiled.evaluate([row(), ["not", "a", "mapping"]])
        assert info.value.row == 1


class TestOutputs:
    def test_to_records_and_to_dict(self, compiled: pk.CompiledScheme) -> None:
        result = compiled.evaluate([row(department="d1", rate=0.7)])
        (record,) = result.to_records()
        assert record == {
            "employee_id": "e1", "department": "d1", "ka": Decimal("90.00"), "kb": Decimal("90.00"),
            "base_total": Decimal("90.00"), "total": Decimal("90.00"), "band_grade": "A", "grade": "B",
            "multiplier": Decimal("1"), "flags": (), "rules": ("low-rate-cap",), "ineligible": (),
            "review_required": False,
        }
        data = result["e1"].to_dict()
        assert data["kpis"] == {"ka": Decimal("90.00"), "kb": Decimal("90.00")} and data["rules"] == ["low-rate-cap"]

    def test_to_json_keeps_decimals_exact(self, compiled: pk.CompiledScheme) -> None:
        import json

        (item,) = json.loads(compiled.evaluate([row(a="84.994", b="85.0049")]).to_json())
        assert item["total"] == "85.00" and item["kpis"]["ka"] == "84.99"

    def test_pandas_in_and_out(self, compiled: pk.CompiledScheme) -> None:
        import pandas as pd

        frame = pd.DataFrame([row("p1", a=0.1), row("p2", b=None)])
        assert frame["b"].isna().any()  # pandas turned the empty cell into NaN
        result = compiled.evaluate(frame)
        assert result["p1"].input("a") == Decimal("0.1")
        assert result["p2"].input("b") == Decimal(50)  # NaN from pandas is an empty cell: the default applies
        out = result.to_pandas()
        assert list(out["employee_id"]) == ["p1", "p2"] and out.loc[0, "total"] == Decimal("45.05")

    def test_numeric_ids_in_a_float_column(self, compiled: pk.CompiledScheme) -> None:
        import pandas as pd

        frame = pd.DataFrame([row(1001), row(None), row(1003)])
        assert frame["employee_id"].dtype.kind == "f"  # one blank id made the column float
        result = compiled.evaluate(frame, errors="collect")
        assert [c.employee_id for c in result] == ["1001", "1003"]
        assert [p.row for p in result.problems] == [1]

    def test_missing_pandas_cell_without_default_is_reported(self, compiled: pk.CompiledScheme) -> None:
        import pandas as pd

        frame = pd.DataFrame([row("p1"), row("p2", a=None)])
        with pytest.raises(pk.DataError) as info:
            compiled.evaluate(frame)
        assert (info.value.employee_id, info.value.column) == ("p2", "a")


class TestExplain:
    def test_explanation_matches_the_card_and_prints(self, compiled: pk.CompiledScheme) -> None:
        card = compiled.evaluate([row(a=5, b=100, rate=0.7)])["e1"]
        explanation = card.explain()
        assert explanation.grade == card.grade and explanation.total.total == card.total
        assert [k.score for k in explanation.kpis] == [k.score for k in card.kpis]
        assert [r.id for r in explanation.rules if r.fired] == list(card.rules)
        text = str(explanation)
        assert "rule low-rate-cap: when rate < 0.8 → fired" in text
        assert "rule lower-cap: when rate < 0.5 → did not fire" in text
        assert "final grade: B" in text
        assert '"employee_id": "e1"' in explanation.to_json()

    def test_explain_a_row_directly(self, compiled: pk.CompiledScheme) -> None:
        explanation = compiled.explain(row(a="84.994", b="85.0049"))
        assert explanation.total.raw == Decimal("84.995") and explanation.total.total == Decimal("85.00")
        assert explanation.band_grade == "A" and explanation.band_min_score == Decimal(85)
