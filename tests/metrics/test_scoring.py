"""Scoring from records: inputs bound to metrics, no data vs zero, and explanations down to records."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfkit as pk
from perfkit.errors import DataError, SchemeError
from perfkit.metrics import TracedEvaluation, compute, evaluate_records
from perfkit.metrics.definitions import MetricDefinitions
from perfkit.metrics.records import RecordStore, SourceRecord, correction
from perfkit.periods import Calendar

UTC = timezone.utc
Q2 = datetime(2026, 4, 1, tzinfo=UTC)
LOADED = datetime(2026, 7, 1, tzinfo=UTC)


def deal(record_id: str, owner: str, amount: object, *, stage: str = "Closed Won", days: int = 10) -> SourceRecord:
    return SourceRecord.create(
        source="crm",
        record_id=record_id,
        entity="opportunity",
        occurred_at=Q2 + timedelta(days=days),
        loaded_at=LOADED,
        fields={"owner": owner, "amount": amount, "stage": stage},
    )


RECORDS = (
    deal("OPP-1", "E1", 60000),
    deal("OPP-2", "E1", "40000.50", days=40),
    deal("OPP-3", "E1", 9000, stage="Closed Lost"),
    deal("OPP-4", "E2", 30000),
    deal("OPP-5", "E2", 5000, stage="Closed Lost"),
    deal("OPP-9", "E1", 77777, days=-5),  # Q1: outside the period
)


def definitions(**policies: str) -> MetricDefinitions:
    """revenue (sum of won), won / closed (counts) and win_rate (ratio); ``policies`` set no_data."""
    metrics: list[dict[str, Any]] = [
        {"id": "revenue", "kind": "simple", "agg": "sum", "field": "amount", "where": {"stage": "Closed Won"}},
        {"id": "won", "kind": "simple", "agg": "count", "where": {"stage": "Closed Won"}},
        {"id": "closed", "kind": "simple", "agg": "count"},
        {"id": "win_rate", "kind": "ratio", "numerator": "won", "denominator": "closed"},
    ]
    for item in metrics:
        if item["kind"] == "simple":
            item["attribution"] = {"owner": "owner"}
        if item["id"] in policies:
            item["no_data"] = policies[item["id"]]
    return MetricDefinitions.from_dict({"perfkit_metrics": 1, "metrics": metrics})


def scheme(**inputs: dict[str, Any]) -> pk.Scheme:
    """sales (bound to revenue), win_rate (bound), target and attitude (from rows); ``inputs`` replace."""
    declared: dict[str, dict[str, Any]] = {
        "sales": {"metric": "revenue", "min": 0},
        "win_rate": {"metric": "win_rate", "min": 0, "max": 1},
        "target": {"min": 1},
        "attitude": {"min": 1, "max": 5, "default": 3},
    }
    declared.update(inputs)
    return pk.Scheme.from_dict(
        {
            "perfkit": 1,
            "id": "crm-sales",
            "inputs": declared,
            "kpis": [
                {"id": "achievement", "weight": "60%", "score": "min(sales / target * 100, 120)"},
                {"id": "conversion", "weight": "20%", "score": "win_rate * 100"},
                {"id": "behaviour", "weight": "20%", "score": "attitude * 20"},
            ],
            "grades": [{"grade": "A", "min_score": 85}, {"grade": "B", "min_score": 60}, {"grade": "C"}],
        }
    )


ROWS = [
    {"employee_id": "E1", "target": 100000, "department": "华东"},
    {"employee_id": "E2", "target": 50000, "attitude": 5, "department": "华南"},
]


def traced(**changes: Any) -> TracedEvaluation:
    arguments: dict[str, Any] = {"rows": ROWS}
    arguments.update(changes)
    chosen_scheme = arguments.pop("scheme", scheme())
    chosen_defs = arguments.pop("definitions", definitions())
    records = arguments.pop("records", RECORDS)
    return evaluate_records(chosen_scheme, chosen_defs, records, "2026-Q2", **arguments)


class TestInputSpecMetric:
    """``metric:`` on an input: declared, checked for shape, written back."""

    def test_round_trips_through_yaml_and_json(self) -> None:
        original = scheme()
        assert original.inputs["sales"].metric == "revenue" and original.inputs["target"].metric is None
        assert pk.Scheme.from_yaml(original.to_yaml()) == original
        assert pk.Scheme.from_json(original.to_json()).to_dict() == original.to_dict()

    def test_is_in_the_json_schema(self) -> None:
        properties = pk.Scheme.json_schema()["$defs"]["InputSpec"]["properties"]
        assert "metric" in properties

    def test_a_metric_id_must_be_an_identifier(self) -> None:
        with pytest.raises(SchemeError) as raised:
            scheme(sales={"metric": "2revenue"})
        assert raised.value.path == "inputs.sales.metric"

    def test_a_misspelt_field_gets_a_suggestion(self) -> None:
        with pytest.raises(SchemeError, match="did you mean 'metric'"):
            scheme(sales={"metrc": "revenue"})

    def test_plain_evaluation_reads_a_bound_input_from_the_row(self) -> None:
        card = pk.evaluate(scheme(), [{"employee_id": "E9", "sales": 50000, "win_rate": "0.5", "target": 100000}])["E9"]
        assert card.input("sales") == 50000 and card.score("achievement") == 50


class TestUnknownMetrics:
    def test_an_unknown_metric_names_the_input_path_with_a_suggestion(self) -> None:
        with pytest.raises(SchemeError) as raised:
            traced(scheme=scheme(sales={"metric": "revenu"}))
        assert raised.value.path == "inputs.sales.metric"
        assert "unknown metric 'revenu'; did you mean 'revenue'?" in str(raised.value)
        assert raised.value.scheme_id == "crm-sales"

    def test_every_unknown_metric_is_reported(self) -> None:
        with pytest.raises(SchemeError) as raised:
            traced(scheme=scheme(sales={"metric": "revenu"}, win_rate={"metric": "nothing_like_it"}))
        paths = sorted(p.path or "" for p in raised.value.problems)
        assert paths == ["inputs.sales.metric", "inputs.win_rate.metric"]
        assert "the definitions have revenue, won, closed, win_rate" in str(raised.value)

    def test_a_scheme_with_no_bound_input_is_refused(self) -> None:
        with pytest.raises(SchemeError, match="no input names a metric") as raised:
            traced(scheme=scheme(sales={"min": 0}, win_rate={"min": 0, "max": 1}))
        assert raised.value.path == "inputs"


class TestEvaluateRecords:
    def test_bound_inputs_hold_the_metric_values(self) -> None:
        result = traced()
        metrics = compute(definitions(), RECORDS, "2026-Q2")
        for employee in ("E1", "E2"):
            card = result[employee]
            assert card.input("sales") == metrics[employee, "revenue"].value
            assert card.input("win_rate") == metrics[employee, "win_rate"].value
        assert result.bindings == {"sales": "revenue", "win_rate": "win_rate"}
        assert result.period.label == "2026-Q2" and result.ok

    def test_equals_scoring_the_merged_rows_directly(self) -> None:
        """The batch path equals the reference path: compute, merge by hand, evaluate."""
        metrics = compute(definitions(), RECORDS, "2026-Q2")
        by_id = {row["employee_id"]: row for row in ROWS}
        rows = [
            {**by_id[e], "sales": metrics[e, "revenue"].value, "win_rate": metrics[e, "win_rate"].value}
            for e in metrics.employees
        ]
        assert traced().evaluation == scheme().compile().evaluate(rows)

    def test_rows_give_unbound_inputs_and_extra_columns(self) -> None:
        result = traced()
        assert result["E2"].input("attitude") == 5 and result["E1"].input("attitude") == 3  # the default
        assert dict(result["E1"].attributes) == {"department": "华东"}

    def test_the_result_does_not_depend_on_the_order_of_records_or_rows(self) -> None:
        shuffled = list(RECORDS)
        random.Random(7).shuffle(shuffled)
        first = traced()
        second = traced(records=shuffled, rows=list(reversed(ROWS)))
        assert second.evaluation == first.evaluation
        assert second.lineage_json() == first.lineage_json()

    def test_takes_files_and_a_store(self, tmp_path: Path) -> None:
        (tmp_path / "s.yaml").write_text(scheme().to_yaml(), encoding="utf-8")
        (tmp_path / "m.yaml").write_text(definitions().to_yaml(), encoding="utf-8")
        store, _ = RecordStore.empty().add(RECORDS)
        from_files = evaluate_records(tmp_path / "s.yaml", str(tmp_path / "m.yaml"), store, "2026-Q2", rows=ROWS)
        assert from_files.evaluation == traced().evaluation

    def test_as_of_scores_the_data_as_it_stood(self) -> None:
        fixed = correction(
            RECORDS[0], fields={"amount": 90000}, actor="王芳", reason="add-on", loaded_at=LOADED + timedelta(days=5)
        )
        store, _ = RecordStore.empty().add([*RECORDS, fixed])
        live = traced(records=store)
        closed = traced(records=store, as_of=LOADED + timedelta(days=1))
        assert live["E1"].input("sales") - closed["E1"].input("sales") == 30000
        assert closed.metrics.excluded == (fixed,)

    def test_a_calendar_places_records_in_its_periods(self) -> None:
        late = SourceRecord.create(
            source="crm",
            record_id="OPP-7",
            entity="opportunity",
            occurred_at=datetime(2026, 6, 30, 20, tzinfo=UTC),  # 1 July in Shanghai
            loaded_at=LOADED,
            fields={"owner": "E1", "amount": 1, "stage": "Closed Won"},
        )
        in_utc = traced(records=[*RECORDS, late])
        in_shanghai = traced(records=[*RECORDS, late], calendar=Calendar(tz="Asia/Shanghai"))
        assert in_utc["E1"].input("sales") - in_shanghai["E1"].input("sales") == 1


class TestNoData:
    """No data is not zero: the metric's no_data first, then the input's default, else an error."""

    def test_a_person_with_a_row_but_no_records_is_not_scored_without_a_policy(self) -> None:
        rows = [*ROWS, {"employee_id": "E3", "target": 1000}]
        with pytest.raises(DataError) as raised:
            traced(rows=rows)
        problems = raised.value.problems
        assert {(p.employee_id, p.column) for p in problems} == {("E3", "sales"), ("E3", "win_rate")}
        sales = next(p for p in problems if p.column == "sales")
        assert "metric 'revenue' has no data in 2026-Q2 (no records)" in sales.message
        assert "no default" in sales.message and sales.row == 2

    def test_collected_problems_leave_the_others_scored(self) -> None:
        rows = [*ROWS, {"employee_id": "E3", "target": 1000}]
        result = traced(rows=rows, errors="collect")
        assert [c.employee_id for c in result] == ["E1", "E2"] and not result.ok
        assert {p.employee_id for p in result.problems} == {"E3"}
        with pytest.raises(DataError, match="not scored: metric 'revenue' has no data"):
            result.explain("E3")

    def test_the_metric_policy_zero_gives_zero_and_says_why(self) -> None:
        rows = [*ROWS, {"employee_id": "E3", "target": 1000}]
        result = traced(
            rows=rows,
            definitions=definitions(revenue="zero"),
            scheme=scheme(win_rate={"metric": "win_rate", "default": 0}),
        )
        sales, rate = result.bound("E3")
        assert (sales.value, sales.origin, sales.metric_value.no_data) == (0, "no_data_zero", "no records")
        assert (rate.value, rate.origin, rate.metric_value.value) == (0, "default", None)
        assert rate.metric_value.no_data == "won in 2026-Q2 has no data"

    def test_the_input_default_applies_when_the_metric_has_no_data(self) -> None:
        rows = [*ROWS, {"employee_id": "E3", "target": 1000}]
        result = traced(
            rows=rows,
            scheme=scheme(sales={"metric": "revenue", "default": 7}, win_rate={"metric": "win_rate", "default": "0.5"}),
        )
        assert result["E3"].input("sales") == 7 and result["E3"].input("win_rate") == Decimal("0.5")
        assert [b.origin for b in result.bound("E3")] == ["default", "default"]
        assert "no data (no records), so the input's default" in result.explain("E3").to_text()

    def test_no_data_error_wins_over_the_input_default(self) -> None:
        rows = [*ROWS, {"employee_id": "E3", "target": 1000}]
        bound = scheme(sales={"metric": "revenue", "default": 7}, win_rate={"metric": "win_rate", "default": 0})
        with pytest.raises(DataError) as raised:
            traced(rows=rows, scheme=bound, definitions=definitions(revenue="error"))
        assert raised.value.employee_id == "E3" and raised.value.column == "sales"
        assert "says no_data: error" in raised.value.message

    def test_a_real_zero_is_a_value_not_no_data(self) -> None:
        result = traced(records=[*RECORDS, deal("OPP-8", "E3", 0)], rows=[*ROWS, {"employee_id": "E3", "target": 10}])
        (sales, rate) = result.bound("E3")
        assert (sales.value, sales.origin, sales.metric_value.no_data) == (0, "metric", None)
        assert rate.value == 1

    def test_people_with_records_but_no_row_are_scored_when_their_inputs_allow(self) -> None:
        result = traced(rows=[ROWS[0]], scheme=scheme(target={"min": 1, "default": 100000}), errors="collect")
        assert [c.employee_id for c in result] == ["E1", "E2"]
        assert result["E2"].attributes == ()

    def test_people_with_records_but_no_row_are_reported_when_an_input_is_missing(self) -> None:
        result = traced(rows=[ROWS[0]], errors="collect")
        (problem,) = result.problems
        assert (problem.employee_id, problem.column, problem.row) == ("E2", "target", None)

    def test_a_row_that_also_gives_a_bound_input_is_refused(self) -> None:
        rows = [{**ROWS[0], "sales": 1}, ROWS[1]]
        with pytest.raises(DataError, match="computed from metric 'revenue', and the row gives it too") as raised:
            traced(rows=rows)
        assert (raised.value.employee_id, raised.value.column, raised.value.row) == ("E1", "sales", 0)

    def test_problem_rows_are_the_callers_row_numbers(self) -> None:
        rows = [{"employee_id": "E3", "target": 5}, ROWS[0], {**ROWS[1], "attitude": 9}]
        result = traced(rows=rows, errors="collect")
        located = {(p.employee_id, p.row) for p in result.problems}
        assert located == {("E3", 0), ("E2", 2)}
        with pytest.raises(DataError) as raised:
            traced(rows=[ROWS[0], {**ROWS[1], "attitude": 9}])
        assert (raised.value.employee_id, raised.value.row) == ("E2", 1)


class TestExplain:
    def test_the_text_goes_from_the_grade_to_the_records(self) -> None:
        result = traced()
        text = result.explain("E1").to_text()
        card_text = result["E1"].explain().to_text()
        assert text.startswith(card_text)
        assert "sales = 100000.50 ← metric revenue" in text
        for record in ("crm:OPP-1@", "crm:OPP-2@", "crm:OPP-3@"):
            assert record in text
        assert "crm:OPP-9@" not in text  # Q1 records are not behind a Q2 grade
        assert "numerator = won for E1 in 2026-Q2: 2" in text

    def test_the_data_has_every_record_with_its_source_and_contribution(self) -> None:
        explanation = traced().explain("E1")
        data = json.loads(explanation.to_json())
        assert data["card"]["grade"] == traced()["E1"].grade and data["employee_id"] == "E1"
        sales = data["inputs"][0]
        assert (sales["input"], sales["metric"], sales["origin"]) == ("sales", "revenue", "metric")
        entries = sales["metric_value"]["lineage"]["records"]
        assert sum(Decimal(e["amount"]) for e in entries) == Decimal(sales["value"])
        sources = {(data["records"][e["record"]]["source"], data["records"][e["record"]]["record_id"]) for e in entries}
        assert sources == {("crm", "OPP-1"), ("crm", "OPP-2")}

    def test_ratio_inputs_are_nested_down_to_their_records(self) -> None:
        data = traced().explain("E1").to_dict()
        rate = data["inputs"][1]["metric_value"]
        assert rate["lineage"]["kind"] == "ratio"
        numerator, denominator = rate["lineage"]["inputs"]
        assert (numerator["name"], numerator["metric"], numerator["value"]) == ("numerator", "won", "2")
        assert len(denominator["lineage"]["records"]) == 3
        assert set(data["records"]) >= {e["record"] for e in denominator["lineage"]["records"]}

    def test_as_of_is_stated(self) -> None:
        text = traced(as_of=LOADED).explain("E1").to_text()
        assert text.endswith(f"(data as of {LOADED.isoformat()}; 0 later record versions excluded)")

    def test_an_unknown_employee_is_a_data_error(self) -> None:
        with pytest.raises(DataError, match="no score card") as raised:
            traced().explain("E404")
        assert raised.value.employee_id == "E404"


class TestLineageJson:
    def test_wraps_the_metrics_document(self) -> None:
        result = traced()
        data = json.loads(result.lineage_json())
        assert data["format"] == "perfkit-scoring/1"
        assert data["scheme"] == {"id": "crm-sales", "version": None} and data["period"] == "2026-Q2"
        assert data["bindings"] == {"sales": "revenue", "win_rate": "win_rate"}
        assert data["metrics"] == json.loads(result.metrics.to_json())
        assert data["metrics"]["format"] == "perfkit-metrics/1"
        assert [(i["employee"], i["input"]) for i in data["inputs"]] == [
            ("E1", "sales"),
            ("E1", "win_rate"),
            ("E2", "sales"),
            ("E2", "win_rate"),
        ]
        assert [c["employee_id"] for c in data["cards"]] == ["E1", "E2"] and data["problems"] == []

    def test_lists_problems(self) -> None:
        data = json.loads(traced(rows=[*ROWS, {"employee_id": "E3", "target": 1}], errors="collect").lineage_json())
        assert {p["employee_id"] for p in data["problems"]} == {"E3"}


@st.composite
def deals(draw: st.DrawFn) -> list[SourceRecord]:
    count = draw(st.integers(1, 12))
    found = []
    for number in range(count):
        owner = draw(st.sampled_from(["E1", "E2", "E3"]))
        cents = draw(st.integers(0, 10**9))
        stage = draw(st.sampled_from(["Closed Won", "Closed Lost"]))
        found.append(
            deal(f"OPP-{number}", owner, Decimal(cents).scaleb(-2), stage=stage, days=draw(st.integers(0, 90)))
        )
    return found


class TestProperties:
    @settings(max_examples=40, deadline=None)
    @given(deals(), st.randoms(use_true_random=False))
    def test_contributions_add_up_to_the_input_and_order_does_not_matter(
        self, records: list[SourceRecord], shuffler: random.Random
    ) -> None:
        bound = scheme(
            sales={"metric": "revenue", "min": 0, "default": 0}, win_rate={"metric": "win_rate", "default": 0}
        )
        rows = [{"employee_id": e, "target": 1000} for e in ("E1", "E2", "E3")]
        result = evaluate_records(bound, definitions(), records, "2026-Q2", rows=rows)
        shuffled = list(records)
        shuffler.shuffle(shuffled)
        again = evaluate_records(bound, definitions(), shuffled, "2026-Q2", rows=list(reversed(rows)))
        assert again.evaluation == result.evaluation
        for card in result:
            sales = result.bound(card.employee_id)[0]
            parts = sales.metric_value.contributions()
            if sales.origin == "metric":
                assert sum((p.amount or Decimal(0) for p in parts), Decimal(0)) == card.input("sales")
            else:
                assert parts == () and card.input("sales") == 0
