"""Reconciliation: two sources for the same figure, compared per employee and period, with
tolerances, one-sided rows, and the records behind each side."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.errors import DataError
from perfkit.metrics.reconcile import Reconciliation, reconcile, reconcile_values
from perfkit.metrics.records import SourceRecord
from perfkit.numbers import CONTEXT
from perfkit.periods import Calendar, parse_period

MAY = datetime(2026, 5, 6, 9, tzinfo=timezone.utc)


def rec(
    source: str, rid: str, owner: object, amount: object, *, at: datetime = MAY, owner_field: str = "owner_id"
) -> SourceRecord:
    return SourceRecord.create(
        source=source, record_id=rid, entity="output", occurred_at=at, fields={owner_field: owner, "amount": amount}
    )


def manual(rid: str, owner: str, amount: object, **kw: object) -> SourceRecord:
    return rec("manual", rid, owner, amount, **kw)  # type: ignore[arg-type]


def erp(rid: str, owner: str, amount: object, **kw: object) -> SourceRecord:
    return rec("erp", rid, owner, amount, **kw)  # type: ignore[arg-type]


class TestReconcile:
    def test_values_are_summed_per_employee_with_the_records_behind_each_side(self) -> None:
        report = reconcile(
            [manual("m2", "E1", 50), manual("m1", "E1", 70), manual("m3", "E2", 80)],
            [erp("r1", "E1", "100.5"), erp("r2", "E1", 19.5), erp("r3", "E2", 80)],
        )
        e1 = report["E1"]
        assert (e1.left, e1.right, e1.difference) == (Decimal(120), Decimal(120), Decimal(0))
        assert e1.status == "match" and not e1.discrepancy
        assert e1.left_records == (("manual", "m1"), ("manual", "m2"))
        assert e1.right_records == (("erp", "r1"), ("erp", "r2"))
        assert report.ok and [r.employee_id for r in report] == ["E1", "E2"]

    def test_any_difference_is_a_discrepancy_without_tolerance(self) -> None:
        report = reconcile([manual("m1", "E1", "100.01")], [erp("r1", "E1", 100)])
        row = report["E1"]
        assert row.status == "exceeds_tolerance" and row.difference == Decimal("0.01")
        assert report.discrepancies == (row,) and not report.ok

    def test_an_employee_on_one_side_only_is_a_discrepancy_whatever_the_tolerance(self) -> None:
        report = reconcile([manual("m1", "E1", 5)], [erp("r1", "E2", 0)], abs_tol=1000, rel_tol="100%")
        assert (report["E1"].status, report["E1"].right, report["E1"].difference) == ("left_only", None, None)
        assert (report["E2"].status, report["E2"].left, report["E2"].right) == ("right_only", None, Decimal(0))
        assert len(report.discrepancies) == 2

    def test_an_absolute_tolerance(self) -> None:
        report = reconcile(
            [manual("m1", "E1", 103), manual("m2", "E2", 97)], [erp("r1", "E1", 100), erp("r2", "E2", 100)], abs_tol=3
        )
        assert report["E1"].status == "within_tolerance" and report["E2"].status == "within_tolerance"
        assert reconcile([manual("m1", "E1", "103.01")], [erp("r1", "E1", 100)], abs_tol=3)["E1"].discrepancy

    def test_the_relative_difference_is_taken_against_the_right_side_by_default(self) -> None:
        row = reconcile([manual("m1", "E1", 100)], [erp("r1", "E1", 95)], rel_tol="5%")["E1"]
        assert row.relative_difference == CONTEXT.divide(Decimal(5), Decimal(95))
        assert row.status == "exceeds_tolerance"  # 5.26% of 95

    @pytest.mark.parametrize(
        ("relative_to", "status"),
        [("left", "within_tolerance"), ("larger", "within_tolerance"), ("right", "exceeds_tolerance")],
    )
    def test_the_reference_side_can_be_chosen(self, relative_to: str, status: str) -> None:
        row = reconcile([manual("m1", "E1", 100)], [erp("r1", "E1", 95)], rel_tol="5%", relative_to=relative_to)["E1"]  # type: ignore[arg-type]
        assert row.status == status

    def test_either_tolerance_is_enough(self) -> None:
        small = reconcile([manual("m1", "E1", 2)], [erp("r1", "E1", 1)], abs_tol=1, rel_tol="1%")["E1"]
        large = reconcile([manual("m1", "E1", 1010)], [erp("r1", "E1", 1000)], abs_tol=1, rel_tol="1%")["E1"]
        assert small.status == large.status == "within_tolerance"

    def test_a_zero_reference_has_no_relative_difference(self) -> None:
        row = reconcile([manual("m1", "E1", 5)], [erp("r1", "E1", 0)], rel_tol="50%")["E1"]
        assert row.relative_difference is None and row.status == "exceeds_tolerance"
        assert reconcile([manual("m1", "E1", 5)], [erp("r1", "E1", 0)], abs_tol=5)["E1"].status == "within_tolerance"

    def test_negative_differences_count_by_magnitude(self) -> None:
        row = reconcile([manual("m1", "E1", 90)], [erp("r1", "E1", 100)], rel_tol="10%")["E1"]
        assert row.difference == -10 and row.relative_difference == Decimal("-0.1")
        assert row.status == "within_tolerance"

    def test_a_period_keeps_the_records_in_it_and_lists_the_others(self) -> None:
        # 2026-03-31 17:00 UTC is already 1 April in Shanghai: inside 2026-Q2 there.
        early = datetime(2026, 3, 31, 17, tzinfo=timezone.utc)
        late = datetime(2026, 7, 1, 1, tzinfo=timezone.utc)
        report = reconcile(
            [
                manual("m1", "E1", 10, at=early),
                manual("m2", "E1", 99, at=datetime(2026, 3, 31, 15, tzinfo=timezone.utc)),
            ],
            [erp("r1", "E1", 10, at=MAY), erp("r2", "E1", 5, at=late)],
            period="2026-Q2",
            calendar=Calendar(tz="Asia/Shanghai"),
        )
        row = report["E1"]
        assert (row.left, row.right, row.period, row.status) == (Decimal(10), Decimal(10), "2026-Q2", "match")
        assert report.excluded_left == (("manual", "m2"),) and report.excluded_right == (("erp", "r2"),)
        assert report.period == "2026-Q2"

    def test_a_period_object_brings_its_calendar(self) -> None:
        quarter = Calendar(tz="Asia/Shanghai").period("2026-Q2")
        early = datetime(2026, 3, 31, 17, tzinfo=timezone.utc)
        assert reconcile([manual("m1", "E1", 1, at=early)], [], period=quarter)["E1"].status == "left_only"

    def test_by_makes_a_row_per_employee_and_period(self) -> None:
        june = MAY + timedelta(days=31)
        report = reconcile(
            [manual("m1", "E2", 1), manual("m2", "E1", 2, at=june), manual("m3", "E1", 3)],
            [erp("r1", "E1", 3), erp("r2", "E1", 1, at=june)],
            by="month",
        )
        assert [(r.employee_id, r.period, r.status) for r in report] == [
            ("E1", "2026-05", "match"),
            ("E1", "2026-06", "exceeds_tolerance"),
            ("E2", "2026-05", "left_only"),
        ]
        assert report["E1", "2026-06"].difference == 1
        with pytest.raises(KeyError, match=r"report\['E1', period\]"):
            report["E1"]
        with pytest.raises(KeyError, match="no reconciliation row"):
            report["E9"]

    def test_each_side_can_name_its_own_owner_and_value_fields(self) -> None:
        left = [
            SourceRecord.create(
                source="manual", record_id="m1", entity="自报产量", occurred_at=MAY, fields={"工号": "E1", "产量": 12}
            )
        ]
        right = [
            SourceRecord.create(
                source="erp", record_id="r1", entity="入库", occurred_at=MAY, fields={"emp": 1001, "qty": "12"}
            )
        ]
        report = reconcile(left, right, left_owner="工号", right_owner="emp", left_value="产量", right_value="qty")
        assert [r.employee_id for r in report] == ["1001", "E1"]

    def test_a_missing_field_names_the_record_and_the_field(self) -> None:
        bad = SourceRecord.create(
            source="erp", record_id="r7", entity="receipt", occurred_at=MAY, fields={"owner_id": "E1"}
        )
        with pytest.raises(DataError) as caught:
            reconcile([], [bad])
        assert "erp:r7" in str(caught.value) and caught.value.column == "amount"

    @pytest.mark.parametrize("amount", [None, "lots", True])
    def test_a_bad_value_names_the_record(self, amount: object) -> None:
        with pytest.raises(DataError) as caught:
            reconcile([manual("m4", "E1", amount)], [])
        assert "manual:m4" in str(caught.value) and caught.value.employee_id == "E1"

    @pytest.mark.parametrize("owner", [None, "", 1.5])
    def test_a_bad_owner_names_the_record(self, owner: object) -> None:
        with pytest.raises(DataError, match="manual:m5"):
            reconcile([rec("manual", "m5", owner, 1)], [])

    def test_a_record_given_twice_on_one_side_is_refused(self) -> None:
        with pytest.raises(DataError, match="erp:r1 is given twice"):
            reconcile([], [erp("r1", "E1", 1), erp("r1", "E1", 1)])

    def test_other_inputs_are_refused(self) -> None:
        with pytest.raises(DataError, match="not a SourceRecord"):
            reconcile([{"owner_id": "E1"}], [])  # type: ignore[list-item]

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"abs_tol": -1}, "abs_tol cannot be negative"),
            ({"rel_tol": "x"}, "rel_tol must be a number"),
            ({"relative_to": "both"}, "relative_to"),
            ({"by": "week"}, "by is a period kind"),
        ],
    )
    def test_bad_options_are_refused(self, options: dict[str, object], message: str) -> None:
        with pytest.raises(DataError, match=message):
            reconcile([], [], **options)  # type: ignore[arg-type]


class TestReconcileValues:
    def test_mappings_of_computed_values(self) -> None:
        report = reconcile_values(
            {"E1": (Decimal(120), [("manual", "m1")]), "E2": (None, []), "E3": (None, [])},
            {"E1": ("118", [("erp", "r2"), ("erp", "r1")]), "E2": (80, [("erp", "r3")])},
            period=parse_period("2026-05"),
            abs_tol=1,
        )
        assert [(r.employee_id, r.period, r.status) for r in report] == [
            ("E1", "2026-05", "exceeds_tolerance"),
            ("E2", "2026-05", "right_only"),
            ("E3", "2026-05", "no_data"),
        ]
        assert report["E1"].right_records == (("erp", "r1"), ("erp", "r2"))
        assert not report["E3"].discrepancy

    def test_bad_entries_are_refused(self) -> None:
        with pytest.raises(DataError, match="value, record keys"):
            reconcile_values({"E1": 5}, {})  # type: ignore[dict-item]
        with pytest.raises(DataError, match="not a number"):
            reconcile_values({"E1": ("x", [])}, {})
        with pytest.raises(DataError, match="record key"):
            reconcile_values({"E1": (1, ["erp:r1"])}, {})  # type: ignore[list-item]


class TestOutput:
    def report(self) -> Reconciliation:
        return reconcile(
            [manual("m1", "E1", 120), manual("m2", "张三", 80)],
            [erp("r1", "E1", 100), erp("r2", "E3", 7)],
            left_name="自报产量",
            right_name="ERP入库",
            rel_tol="5%",
        )

    def test_records_are_flat_rows_with_exact_numbers(self) -> None:
        records = self.report().to_records()
        assert records[0] == {
            "employee_id": "E1",
            "period": None,
            "left": Decimal(120),
            "right": Decimal(100),
            "difference": Decimal(20),
            "relative_difference": Decimal("0.2"),
            "status": "exceeds_tolerance",
            "discrepancy": True,
            "left_records": [["manual", "m1"]],
            "right_records": [["erp", "r1"]],
        }

    def test_json_holds_the_settings_rows_and_exact_decimals(self) -> None:
        data = json.loads(self.report().to_json())
        assert (data["left"], data["right"], data["rel_tol"], data["discrepancies"]) == (
            "自报产量",
            "ERP入库",
            "0.05",
            3,
        )
        assert [row["employee_id"] for row in data["rows"]] == ["E1", "E3", "张三"]
        assert data["rows"][0]["relative_difference"] == "0.2"

    def test_text_shows_both_sides_and_the_records_behind_each_discrepancy(self) -> None:
        text = self.report().to_text()
        lines = text.splitlines()
        assert lines[0].split() == ["employee", "period", "自报产量", "ERP入库", "difference", "relative", "status"]
        assert lines[1].split() == ["E1", "-", "120", "100", "20", "20%", "exceeds", "tolerance", "!"]
        assert "3 of 3 rows need a look (tolerance: 0 absolute or 5% of right)" in text
        assert "  ERP入库: erp:r1" in text and "  自报产量: (no records)" in text
        assert str(self.report()) == text


# -- properties ----------------------------------------------------------------------------

amounts = st.integers(-10_000, 10_000).map(lambda n: Decimal(n) / 100)


@st.composite
def sides(draw: st.DrawFn) -> tuple[list[SourceRecord], list[SourceRecord]]:
    result = []
    for source in ("manual", "erp"):
        entries = draw(st.lists(st.tuples(st.sampled_from(["E1", "E2", "E3"]), amounts), max_size=8))
        result.append([rec(source, f"{source}{i}", who, amount) for i, (who, amount) in enumerate(entries)])
    return result[0], result[1]


class TestProperties:
    @settings(max_examples=100, deadline=None)
    @given(sides(), st.randoms(use_true_random=False))
    def test_the_report_does_not_depend_on_record_order(
        self, case: tuple[list[SourceRecord], list[SourceRecord]], rng: random.Random
    ) -> None:
        left, right = case
        shuffled_left, shuffled_right = list(left), list(right)
        rng.shuffle(shuffled_left)
        rng.shuffle(shuffled_right)
        assert reconcile(left, right, abs_tol=1) == reconcile(shuffled_left, shuffled_right, abs_tol=1)

    @settings(max_examples=100, deadline=None)
    @given(sides())
    def test_each_side_sums_exactly_and_difference_is_left_minus_right(
        self, case: tuple[list[SourceRecord], list[SourceRecord]]
    ) -> None:
        left, right = case
        for row in reconcile(left, right):
            mine = [r.field("amount") for r in left if r.field("owner_id") == row.employee_id]
            theirs = [r.field("amount") for r in right if r.field("owner_id") == row.employee_id]
            assert row.left == (sum(mine, Decimal(0)) if mine else None)
            assert row.right == (sum(theirs, Decimal(0)) if theirs else None)
            assert len(row.left_records) == len(mine) and len(row.right_records) == len(theirs)
            if mine and theirs:
                assert row.difference == row.left - row.right  # type: ignore[operator]

    @settings(max_examples=100, deadline=None)
    @given(sides(), amounts.map(abs), amounts.map(abs), amounts.map(abs))
    def test_a_larger_tolerance_never_makes_a_row_worse(
        self, case: tuple[list[SourceRecord], list[SourceRecord]], tol: Decimal, extra: Decimal, rel: Decimal
    ) -> None:
        left, right = case
        strict = reconcile(left, right, abs_tol=tol, rel_tol=rel / 100)
        loose = reconcile(left, right, abs_tol=tol + extra, rel_tol=rel / 100 + extra / 100)
        for a, b in zip(strict, loose, strict=True):
            assert b.discrepancy <= a.discrepancy
