"""Metric definitions: loading YAML/JSON, shape errors, meaning errors, previous()."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from perfkit.errors import FormulaError, SchemeError
from perfkit.metrics.definitions import (
    CumulativeMetric,
    DerivedMetric,
    MetricDefinitions,
    RatioMetric,
    SimpleMetric,
    load_metrics,
    validate_metrics,
)

SALES_YAML = """\
perfkit_metrics: 1
description: 销售指标
metrics:
  - id: revenue
    kind: simple
    description: Closed-won opportunity amounts
    source: crm
    entity: opportunity
    where: {StageName: Closed Won}
    agg: sum
    field: Amount
    attribution: {owner: OwnerId}
    time: CloseDate
    no_data: zero
  - id: tickets
    kind: simple
    source: [zendesk, helpdesk]
    entity: ticket
    where: {status: [solved, closed]}
    filter: priority >= 2
    agg: count
    attribution: {owner: assignee}
  - id: win_rate
    kind: ratio
    numerator: revenue
    denominator: tickets
  - id: growth
    kind: derived
    formula: revenue / previous(revenue) - 1
  - id: revenue_ytd
    kind: cumulative
    metric: revenue
    grain: year
"""


def simple(metric_id: str = "revenue", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": metric_id,
        "kind": "simple",
        "agg": "sum",
        "field": "amount",
        "attribution": {"owner": "owner"},
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def definitions(*metrics: dict[str, Any]) -> dict[str, Any]:
    return {"perfkit_metrics": 1, "metrics": list(metrics)}


def problems_of(data: dict[str, Any]) -> list[SchemeError]:
    found = validate_metrics(data)
    assert found, "expected the definitions to be refused"
    return found


class TestLoading:
    def test_yaml_file_gives_each_kind(self, tmp_path: Path) -> None:
        path = tmp_path / "sales.yaml"
        path.write_text(SALES_YAML, encoding="utf-8")
        loaded = load_metrics(path)
        assert loaded.ids == ("revenue", "tickets", "win_rate", "growth", "revenue_ytd")
        kinds = [type(m) for m in loaded.metrics]
        assert kinds == [SimpleMetric, SimpleMetric, RatioMetric, DerivedMetric, CumulativeMetric]

    def test_selectors_and_where_are_read_as_written(self) -> None:
        loaded = MetricDefinitions.from_yaml(SALES_YAML)
        tickets = loaded["tickets"]
        assert isinstance(tickets, SimpleMetric)
        assert tickets.source == ("zendesk", "helpdesk")
        assert tickets.where == {"status": ("solved", "closed")}
        revenue = loaded["revenue"]
        assert isinstance(revenue, SimpleMetric)
        assert revenue.source == ("crm",) and revenue.time == "CloseDate" and revenue.no_data == "zero"

    def test_defaults(self) -> None:
        metric = MetricDefinitions.from_dict(definitions(simple()))["revenue"]
        assert isinstance(metric, SimpleMetric)
        assert (metric.no_data, metric.time, metric.where, metric.source) == ("missing", "occurred_at", {}, None)

    def test_json_reads_like_yaml(self) -> None:
        from_yaml = MetricDefinitions.from_yaml(SALES_YAML)
        assert MetricDefinitions.from_json(from_yaml.to_json()) == from_yaml

    def test_to_dict_round_trips(self) -> None:
        loaded = MetricDefinitions.from_yaml(SALES_YAML)
        again = MetricDefinitions.from_yaml(loaded.to_yaml())
        assert again == loaded
        assert again.to_dict() == loaded.to_dict()

    def test_missing_file_is_a_scheme_error(self, tmp_path: Path) -> None:
        with pytest.raises(SchemeError, match="file not found"):
            load_metrics(tmp_path / "nope.yaml")

    def test_unknown_metric_lookup_suggests(self) -> None:
        loaded = MetricDefinitions.from_yaml(SALES_YAML)
        with pytest.raises(SchemeError, match="did you mean 'revenue'"):
            loaded["revenu"]


class TestShapeErrors:
    def test_unknown_agg_suggests_and_names_line(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text(SALES_YAML.replace("agg: sum", "agg: summ"), encoding="utf-8")
        with pytest.raises(SchemeError) as caught:
            load_metrics(path)
        error = caught.value
        assert error.path == "metrics[0].agg"
        assert error.line == 10 and error.source == str(path)
        assert "unknown agg 'summ'; did you mean 'sum'?" in str(error)

    def test_unknown_kind_suggests(self) -> None:
        (problem,) = problems_of(definitions(simple(kind="cumulativ")))
        assert problem.path == "metrics[0]"
        assert "did you mean 'cumulative'" in problem.message

    def test_missing_kind(self) -> None:
        data = simple()
        del data["kind"]
        (problem,) = problems_of(definitions(data))
        assert "a metric needs kind" in problem.message

    def test_unknown_field_suggests(self) -> None:
        (problem,) = problems_of(definitions(simple(feild="amount")))
        assert problem.path == "metrics[0].feild"
        assert "did you mean 'field'" in problem.message

    def test_count_takes_no_field(self) -> None:
        (problem,) = problems_of(definitions(simple(agg="count")))
        assert "count counts records" in problem.message

    def test_sum_needs_field_or_expr(self) -> None:
        (problem,) = problems_of(definitions(simple(field=None)))
        assert "sum aggregates a field or a formula" in problem.message

    def test_count_distinct_needs_field(self) -> None:
        (problem,) = problems_of(definitions(simple(agg="count_distinct", field=None, expr="amount")))
        assert "count_distinct" in problem.message

    def test_unknown_no_data_policy(self) -> None:
        (problem,) = problems_of(definitions(simple(no_data="skip")))
        assert problem.path == "metrics[0].no_data"

    def test_format_version(self) -> None:
        problem = problems_of({"perfkit_metrics": 2, "metrics": [simple()]})[0]
        assert "format version 1" in problem.message

    def test_where_values_are_scalars(self) -> None:
        (problem,) = problems_of(definitions(simple(where={"stage": {"nested": 1}})))
        assert problem.path == "metrics[0].where"

    def test_bad_attribution_names_its_path(self) -> None:
        (problem,) = problems_of(definitions(simple(attribution={"owner": "a", "split": "b"})))
        assert problem.path == "metrics[0].attribution"

    def test_not_a_mapping(self) -> None:
        with pytest.raises(SchemeError, match="a definitions file is a mapping"):
            MetricDefinitions.from_yaml("- just\n- a list\n")


class TestMeaningErrors:
    def test_unknown_ratio_side_suggests(self) -> None:
        data = definitions(simple(), {"id": "r", "kind": "ratio", "numerator": "revenu", "denominator": "revenue"})
        (problem,) = problems_of(data)
        assert problem.path == "metrics[1].numerator"
        assert "unknown metric 'revenu'; did you mean 'revenue'?" in problem.message

    def test_unknown_cumulative_metric(self) -> None:
        (problem,) = problems_of(definitions(simple(), {"id": "ytd", "kind": "cumulative", "metric": "sales"}))
        assert problem.path == "metrics[1].metric" and "unknown metric 'sales'" in problem.message

    def test_unknown_name_in_formula_has_a_caret(self) -> None:
        (problem,) = problems_of(definitions(simple(), {"id": "d", "kind": "derived", "formula": "revenu * 2"}))
        assert isinstance(problem, FormulaError)
        assert problem.suggestion == "revenue" and problem.column == 1
        assert "^^^^^^" in str(problem)

    def test_unknown_metric_in_previous_points_at_it(self) -> None:
        formula = "revenue / previous( revenu ) - 1"
        (problem,) = problems_of(definitions(simple(), {"id": "g", "kind": "derived", "formula": formula}))
        assert isinstance(problem, FormulaError)
        assert problem.text == formula
        assert formula[problem.column - 1 : (problem.end_column or 0) - 1] == "revenu"
        assert "did you mean 'revenue'" in problem.message

    def test_positions_after_previous_are_the_written_ones(self) -> None:
        formula = "previous(revenue) + previous( revenue )  + nope"
        (problem,) = problems_of(definitions(simple(), {"id": "g", "kind": "derived", "formula": formula}))
        assert isinstance(problem, FormulaError)
        assert problem.text == formula
        assert formula[problem.column - 1 :].startswith("nope")

    def test_previous_of_an_expression_is_refused(self) -> None:
        data = definitions(simple(), {"id": "g", "kind": "derived", "formula": "previous(revenue * 2)"})
        (problem,) = problems_of(data)
        assert isinstance(problem, FormulaError)
        assert problem.hint is not None and "previous(revenue)" in problem.hint

    def test_attribute_style_previous_gets_a_hint(self) -> None:
        data = definitions(simple(), {"id": "g", "kind": "derived", "formula": "revenue.previous"})
        (problem,) = problems_of(data)
        assert "previous(metric_id)" in str(problem)

    def test_scheme_history_functions_are_refused(self) -> None:
        data = definitions(simple(), {"id": "g", "kind": "derived", "formula": "revenue - previous_total()"})
        (problem,) = problems_of(data)
        assert isinstance(problem, FormulaError) and "previous_total() reads scheme results" in problem.message
        assert problem.column == 11

    def test_cycle_names_every_metric_in_it(self) -> None:
        data = definitions(
            simple(),
            {"id": "a", "kind": "derived", "formula": "b + revenue"},
            {"id": "b", "kind": "ratio", "numerator": "c", "denominator": "revenue"},
            {"id": "c", "kind": "cumulative", "metric": "a"},
        )
        (problem,) = problems_of(data)
        assert "cycle: a → b → c → a" in problem.message
        assert problem.path == "metrics[1]"

    def test_previous_of_itself_is_a_cycle(self) -> None:
        data = definitions(simple(), {"id": "run", "kind": "derived", "formula": "revenue + previous(run)"})
        (problem,) = problems_of(data)
        assert "cycle: run → run" in problem.message

    def test_duplicate_ids(self) -> None:
        (problem,) = problems_of(definitions(simple(), simple(agg="max")))
        assert problem.path == "metrics[1].id" and "declared twice" in problem.message

    def test_double_underscore_ids_are_reserved(self) -> None:
        (problem,) = problems_of(definitions(simple("revenue__previous")))
        assert "cannot contain '__'" in problem.message

    def test_filter_must_be_a_condition(self) -> None:
        (problem,) = problems_of(definitions(simple(filter="amount * 2")))
        assert isinstance(problem, FormulaError) and problem.path == "metrics[0].filter"

    def test_expr_must_be_a_number(self) -> None:
        (problem,) = problems_of(definitions(simple(field=None, expr="amount > 2")))
        assert isinstance(problem, FormulaError) and problem.path == "metrics[0].expr"

    def test_every_problem_of_a_file_is_reported_together(self, tmp_path: Path) -> None:
        text = (
            SALES_YAML.replace("agg: sum", "agg: total")
            .replace("numerator: revenue", "numerator: revnue")
            .replace("previous(revenue)", "previous(revenue) + nope")
        )
        path = tmp_path / "bad.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(SchemeError) as caught:
            load_metrics(path)
        error = caught.value
        paths = [p.path for p in error.problems if isinstance(p, SchemeError)]
        assert paths == ["metrics[0].agg", "metrics[2].numerator", "metrics[3].formula"]
        assert "have 3 problems" in str(error)
        lines = [p.line for p in error.problems if isinstance(p, SchemeError)]
        assert lines == sorted(lines) and all(line is not None for line in lines)
        assert json.loads(json.dumps(error.to_dict()))["problems"][1]["path"] == "metrics[2].numerator"


class TestCompiled:
    def test_order_puts_inputs_first(self) -> None:
        compiled = MetricDefinitions.from_yaml(SALES_YAML).compile()
        order = compiled.order
        assert set(order) == {"revenue", "tickets", "win_rate", "growth", "revenue_ytd"}
        for later, earlier in (
            ("win_rate", "revenue"),
            ("win_rate", "tickets"),
            ("growth", "revenue"),
            ("revenue_ytd", "revenue"),
        ):
            assert order.index(earlier) < order.index(later)

    def test_previous_is_bound_under_a_derived_name(self) -> None:
        compiled = MetricDefinitions.from_yaml(SALES_YAML).compile()
        assert compiled.previous["growth"] == ("revenue",)
        formula = compiled.formulas["growth.formula"]
        assert formula.text == "revenue / previous(revenue) - 1"
        assert formula.names == ("revenue", "revenue__previous")
        assert formula({"revenue": 150, "revenue__previous": 120}) == Decimal("0.25")

    def test_record_formulas_read_any_field(self) -> None:
        compiled = MetricDefinitions.from_dict(
            definitions(simple(field=None, expr="Amount * (1 - discount)"))
        ).compile()
        assert compiled.formulas["revenue.expr"].names == ("Amount", "discount")
