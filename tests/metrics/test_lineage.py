"""Lineage: contributions that add up exactly, compact storage, inputs, explain() and JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.errors import DataError
from perfkit.metrics.compute import compute
from perfkit.metrics.definitions import MetricDefinitions
from perfkit.metrics.lineage import JSON_FORMAT, InputLineage, RecordLineage, record_key
from perfkit.metrics.records import RecordStore, SourceRecord, correction
from perfkit.numbers import exact_sum

UTC = timezone.utc
IN_Q2 = datetime(2026, 5, 1, tzinfo=UTC)
IN_Q1 = datetime(2026, 2, 1, tzinfo=UTC)
LOADED = datetime(2026, 7, 1, tzinfo=UTC)


def deal(record_id: str, amount: object, *, owner: str = "E1", at: datetime = IN_Q2, **fields: Any) -> SourceRecord:
    return SourceRecord.create(
        source="crm",
        record_id=record_id,
        entity="opportunity",
        occurred_at=at,
        loaded_at=fields.pop("loaded_at", LOADED),
        fields={"owner": owner, "amount": amount, **fields},
    )


DEFINITIONS = MetricDefinitions.from_dict(
    {
        "perfkit_metrics": 1,
        "metrics": [
            {"id": "revenue", "kind": "simple", "agg": "sum", "field": "amount", "attribution": {"split": "splits"}},
            {"id": "deals", "kind": "simple", "agg": "count", "attribution": {"split": "splits"}},
            {"id": "biggest", "kind": "simple", "agg": "max", "field": "amount", "attribution": {"split": "splits"}},
            {"id": "per_deal", "kind": "ratio", "numerator": "revenue", "denominator": "deals"},
            {"id": "growth", "kind": "derived", "formula": "revenue - previous(revenue)"},
            {"id": "ytd", "kind": "cumulative", "metric": "revenue", "grain": "year"},
        ],
    }
)
PEOPLE = ("E1", "E2", "E3")


@st.composite
def split_deals(draw: st.DrawFn) -> list[SourceRecord]:
    """Deals with amounts of up to 30 digits and splits into shares of up to 6 places."""
    records = []
    for i in range(draw(st.integers(min_value=1, max_value=15))):
        amount = Decimal(draw(st.integers(min_value=-(10**30), max_value=10**30))).scaleb(-draw(st.integers(0, 12)))
        who = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=3, unique=True))
        parts = [draw(st.integers(min_value=1, max_value=10**6)) for _ in who]
        total = sum(parts)
        shares = [Decimal(p) / Decimal(total) for p in parts]
        shares = [s.quantize(Decimal("0.000001")) for s in shares[:-1]]
        shares.append(Decimal(1) - sum(shares, Decimal(0)))
        splits = dict(zip(who, (str(s) for s in shares)))
        records.append(deal(f"D{i}", amount, splits=splits))
    return records


class TestContributions:
    @settings(max_examples=80, deadline=None)
    @given(records=split_deals())
    def test_contributions_add_up_exactly_to_the_value(self, records: list[SourceRecord]) -> None:
        result = compute(DEFINITIONS, records, "2026-Q2")
        for employee in result.employees:
            for metric in ("revenue", "deals"):
                value = result[employee, metric]
                parts = value.contributions()
                assert exact_sum(p.amount for p in parts if p.amount is not None) == value.value
                assert sorted(p.record.record_id for p in parts) == sorted({p.record.record_id for p in parts})

    @settings(max_examples=40, deadline=None)
    @given(records=split_deals())
    def test_every_share_of_a_record_is_credited_once(self, records: list[SourceRecord]) -> None:
        result = compute(DEFINITIONS, records, "2026-Q2")
        credited: dict[str, Decimal] = {}
        for employee in result.employees:
            for part in result[employee, "deals"].contributions():
                credited[part.record.record_id] = credited.get(part.record.record_id, Decimal(0)) + part.share
        assert credited == {r.record_id: Decimal(1) for r in records}

    def test_amount_is_share_times_value(self) -> None:
        record = deal("1", Decimal("1000.01"), splits={"E1": "0.6", "E2": "0.4"})
        (part,) = compute(DEFINITIONS, [record], "2026-Q2")["E1", "revenue"].contributions()
        assert (part.record, part.share, part.value, part.amount) == (
            record,
            Decimal("0.6"),
            Decimal("1000.01"),
            Decimal("600.006"),
        )

    def test_non_additive_values_list_records_without_amounts(self) -> None:
        records = [deal("1", 5, splits={"E1": 1}), deal("2", 9, splits={"E1": 1})]
        parts = compute(DEFINITIONS, records, "2026-Q2")["E1", "biggest"].contributions()
        assert [(p.value, p.amount) for p in parts] == [(Decimal(5), None), (Decimal(9), None)]

    def test_combined_values_have_inputs_not_contributions(self) -> None:
        value = compute(DEFINITIONS, [deal("1", 5, splits={"E1": 1})], "2026-Q2")["E1", "per_deal"]
        with pytest.raises(DataError, match="ratio metric"):
            value.contributions()

    def test_contributions_ignore_the_callers_context(self, caller_context: Any) -> None:
        caller_context.prec = 2
        record = deal("1", Decimal("1000.01"), splits={"E1": "0.6", "E2": "0.4"})
        (part,) = compute(DEFINITIONS, [record], "2026-Q2")["E2", "revenue"].contributions()
        assert part.amount == Decimal("400.004")


class TestCompactStorage:
    def test_indices_into_one_shared_table(self) -> None:
        records = [deal("1", 5, splits={"E1": 1}), deal("2", 7, splits={"E1": "0.5", "E2": "0.5"})]
        result = compute(DEFINITIONS, records, "2026-Q2")
        lineage = result["E1", "revenue"].lineage
        assert isinstance(lineage, RecordLineage)
        assert lineage.indices.typecode == "I" and list(lineage.indices) == [0, 1]
        assert lineage.table is result.records
        assert lineage.shares == {1: Decimal("0.5")}

    def test_no_shares_are_stored_when_all_are_whole(self) -> None:
        result = compute(DEFINITIONS, [deal("1", 5, splits={"E1": 1})], "2026-Q2")
        lineage = result["E1", "deals"].lineage
        assert isinstance(lineage, RecordLineage) and lineage.shares is None

    def test_records_are_sorted_by_key(self) -> None:
        records = [deal("b", 1, splits={"E1": 1}), deal("a", 2, splits={"E1": 1})]
        assert [r.record_id for r in compute(DEFINITIONS, records, "2026-Q2")["E1", "revenue"].records()] == ["a", "b"]


class TestInputs:
    RECORDS = (
        deal("q1", 40, splits={"E1": 1}, at=IN_Q1),
        deal("q2a", 100, splits={"E1": 1}),
        deal("q2b", 50, splits={"E1": "0.5", "E2": "0.5"}),
    )

    def test_ratio_knows_both_sides(self) -> None:
        value = compute(DEFINITIONS, self.RECORDS, "2026-Q2")["E1", "per_deal"]
        assert isinstance(value.lineage, InputLineage)
        assert value.lineage.formula == "revenue / deals"
        sides = {i.name: (i.value.metric, i.value.value) for i in value.lineage.inputs}
        assert sides == {"numerator": ("revenue", Decimal("125.0")), "denominator": ("deals", Decimal("1.5"))}
        assert [r.record_id for r in value.records()] == ["q2a", "q2b"]

    def test_derived_knows_the_previous_period(self) -> None:
        value = compute(DEFINITIONS, self.RECORDS, "2026-Q2")["E1", "growth"]
        assert isinstance(value.lineage, InputLineage)
        inputs = {i.name: (i.value.period.label, i.value.value) for i in value.lineage.inputs}
        assert inputs == {"revenue": ("2026-Q2", Decimal("125.0")), "previous(revenue)": ("2026-Q1", Decimal(40))}
        assert value.value == Decimal("85.0")
        assert [r.record_id for r in value.records()] == ["q1", "q2a", "q2b"]

    def test_cumulative_knows_its_window(self) -> None:
        value = compute(DEFINITIONS, self.RECORDS, "2026-Q2")["E1", "ytd"]
        assert isinstance(value.lineage, InputLineage)
        (window,) = value.lineage.inputs
        assert window.name == "to_date" and window.value.period.label == "2026-Q2 (year to date)"
        assert value.value == Decimal("165.0")


class TestExplain:
    def test_explain_reaches_the_records(self) -> None:
        result = compute(DEFINITIONS, TestInputs.RECORDS, "2026-Q2")
        text = result["E1", "per_deal"].explain()
        assert text.splitlines()[0] == "per_deal for E1 in 2026-Q2: 83.33333333333333333333333333333333"
        assert "= revenue / deals" in text
        assert "numerator = revenue for E1 in 2026-Q2: 125.0" in text
        key = record_key(TestInputs.RECORDS[2])
        assert f"{key}  share 0.5  value 50  → 25.0" in text

    def test_explain_shows_who_corrected_a_record(self) -> None:
        first = deal("1", 100, splits={"E1": 1})
        fixed = correction(
            first,
            fields={"amount": 150},
            actor="王芳",
            reason="CRM missed the add-on",
            loaded_at=LOADED + timedelta(days=1),
        )
        store, _ = RecordStore.empty().add([first, fixed])
        text = compute(DEFINITIONS, store, "2026-Q2").explain("E1", "revenue")
        assert "(by 王芳: CRM missed the add-on)" in text

    def test_explain_limits_long_lists(self) -> None:
        records = [deal(f"{i:02d}", 1, splits={"E1": 1}) for i in range(25)]
        text = compute(DEFINITIONS, records, "2026-Q2")["E1", "deals"].explain(limit=5)
        assert "... and 20 more" in text
        assert sum(1 for line in text.splitlines() if line.strip().startswith("crm:")) == 5

    def test_explain_says_why_there_is_no_data(self) -> None:
        result = compute(DEFINITIONS, [deal("1", 5, splits={"E1": 1})], "2026-Q2")
        assert "growth for E1 in 2026-Q2: no data [revenue in 2026-Q1 has no data]" in result.explain("E1")

    def test_explain_mentions_the_cut_off(self) -> None:
        store, _ = RecordStore.empty().add(
            [deal("1", 5, splits={"E1": 1}), deal("2", 5, splits={"E1": 1}, loaded_at=LOADED + timedelta(days=9))]
        )
        result = compute(DEFINITIONS, store, "2026-Q2", as_of=LOADED)
        assert "1 later record versions excluded" in result.explain("E1", "revenue")


class TestJson:
    def result(self) -> Any:
        return compute(DEFINITIONS, TestInputs.RECORDS, "2026-Q2")

    def test_record_keys_name_source_id_and_version(self) -> None:
        record = TestInputs.RECORDS[0]
        assert record_key(record) == f"crm:q1@{record.content_hash[:12]}"

    def test_document_shape(self) -> None:
        data = json.loads(self.result().to_json())
        assert data["format"] == JSON_FORMAT
        assert data["period"]["label"] == "2026-Q2" and data["as_of"] is None
        assert data["metrics"] == ["revenue", "deals", "biggest", "per_deal", "growth", "ytd"]
        assert [(v["employee"], v["metric"]) for v in data["values"]][:2] == [("E1", "revenue"), ("E1", "deals")]

    def test_simple_values_list_their_records(self) -> None:
        data = json.loads(self.result().to_json())
        revenue = next(v for v in data["values"] if (v["employee"], v["metric"]) == ("E1", "revenue"))
        assert revenue["value"] == "125.0"
        keys = [record_key(r) for r in TestInputs.RECORDS[1:]]
        assert revenue["lineage"] == {
            "kind": "records",
            "agg": "sum",
            "records": [
                {"record": keys[0], "value": "100", "amount": "100"},
                {"record": keys[1], "share": "0.5", "value": "50", "amount": "25.0"},
            ],
        }
        assert data["records"][keys[1]]["source"] == "crm"
        assert data["records"][keys[1]]["fields"]["amount"] == 50

    def test_inputs_refer_to_values_and_supporting_values_are_listed(self) -> None:
        data = json.loads(self.result().to_json())
        growth = next(v for v in data["values"] if (v["employee"], v["metric"]) == ("E1", "growth"))
        assert growth["lineage"]["inputs"][1] == {
            "name": "previous(revenue)",
            "metric": "revenue",
            "period": "2026-Q1",
            "value": "40",
        }
        supporting = {(v["employee"], v["metric"], v["period"]) for v in data["supporting"]}
        assert ("E1", "revenue", "2026-Q1") in supporting and ("E1", "revenue", "2026-Q2 (year to date)") in supporting
        assert record_key(TestInputs.RECORDS[0]) in data["records"]

    def test_without_lineage(self) -> None:
        data = json.loads(self.result().to_json(lineage=False))
        assert "records" not in data and "supporting" not in data
        assert all("lineage" not in v for v in data["values"])

    def test_no_data_is_null_with_a_reason(self) -> None:
        data = json.loads(self.result().to_json())
        growth = next(v for v in data["values"] if (v["employee"], v["metric"]) == ("E2", "growth"))
        assert growth["value"] is None and growth["no_data"] == "revenue in 2026-Q1 has no data"

    def test_as_of_lists_excluded_records(self) -> None:
        late = deal("late", 5, splits={"E1": 1}, loaded_at=LOADED + timedelta(days=3))
        store, _ = RecordStore.empty().add([*TestInputs.RECORDS, late])
        data = json.loads(compute(DEFINITIONS, store, "2026-Q2", as_of=LOADED).to_json())
        assert data["as_of"] == LOADED.isoformat() and data["excluded"] == [record_key(late)]
