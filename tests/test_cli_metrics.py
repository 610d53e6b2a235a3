"""`perfkit metrics`, and `perfkit score` / `perfkit explain` from source records; perfkit record files."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.cli import main
from perfkit.errors import DataError
from perfkit.metrics import compute, evaluate_records, load_metrics
from perfkit.metrics.adapters import from_salesforce
from perfkit.metrics.records import SourceRecord, correction, read_records
from perfkit.periods import Calendar
from perfkit.scheme import load_scheme

UTC = timezone.utc
LOADED = datetime(2026, 7, 1, 9, tzinfo=UTC)


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), stdout=out)
    return code, out.getvalue()


def opportunity(number: int, employee: str, amount: float, close: str, stage: str = "Closed Won") -> dict[str, Any]:
    ident = f"0068d00000Zx1{number:02d}AAR"
    return {
        "attributes": {"type": "Opportunity", "url": f"/services/data/v60.0/sobjects/Opportunity/{ident}"},
        "Id": ident,
        "Name": f"deal {number}",
        "Amount": amount,
        "CloseDate": close,
        "StageName": stage,
        "IsWon": stage == "Closed Won",
        "IsClosed": True,
        "AccountId": "0018d00000Acc01AAA",
        "OwnerId": f"0058d00000{employee}AAA",
        "Owner": {
            "attributes": {"type": "User", "url": "/services/data/v60.0/sobjects/User/x"},
            "EmployeeNumber": employee,
        },
    }


EXPORT = {
    "totalSize": 5,
    "done": True,
    "records": [
        opportunity(1, "E001", 320000.0, "2026-04-18"),
        opportunity(2, "E001", 180000.5, "2026-06-30"),
        opportunity(3, "E001", 90000.0, "2026-05-20", stage="Closed Lost"),
        opportunity(4, "E002", 260000.0, "2026-05-08"),
        opportunity(5, "E002", 150000.0, "2026-07-01"),  # the next quarter in Shanghai
    ],
}

METRICS = """\
perfkit_metrics: 1
metrics:
  - {id: revenue, kind: simple, source: salesforce, where: {stage: Closed Won}, agg: sum, field: amount,
     attribution: {owner: employee}, no_data: zero}
  - {id: won, kind: simple, source: salesforce, where: {stage: Closed Won}, agg: count,
     attribution: {owner: employee}, no_data: zero}
  - {id: closed, kind: simple, source: salesforce, where: {is_closed: true}, agg: count,
     attribution: {owner: employee}, no_data: zero}
  - {id: win_rate, kind: ratio, numerator: won, denominator: closed}
"""

SCHEME = """\
perfkit: 1
id: crm-sales
inputs:
  sales: {metric: revenue, min: 0}
  win_rate: {metric: win_rate, min: 0, max: 1, default: 0}
  target: {min: 1, default: 400000}
kpis:
  - {id: achievement, weight: 80%, score: 'min(sales / target * 100, 120)'}
  - {id: conversion, weight: 20%, score: win_rate * 100}
grades:
  - {grade: A, min_score: 85}
  - {grade: B, min_score: 60}
  - {grade: C}
"""

MAPPING = "fields:\n  employee: Owner.EmployeeNumber\n"
ADAPTER = ["--adapter", "salesforce", "--mapping", "mapping.yaml", "--calendar-tz", "Asia/Shanghai"]
ADAPTER += ["--loaded-at", LOADED.isoformat()]
SHANGHAI = Calendar(tz="Asia/Shanghai")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "export.json").write_text(json.dumps(EXPORT, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "metrics.yaml").write_text(METRICS, encoding="utf-8")
    (tmp_path / "scheme.yaml").write_text(SCHEME, encoding="utf-8")
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "targets.csv").write_text(
        "employee_id,target,region\nE001,450000,华东\nE003,300000,华南\n", encoding="utf-8"
    )
    return tmp_path


def exported() -> tuple[SourceRecord, ...]:
    """The export read through the Python API, as the CLI should read it."""
    return from_salesforce(
        json.dumps(EXPORT),
        tz="Asia/Shanghai",
        loaded_at=LOADED,
        mapping={"fields": {"employee": "Owner.EmployeeNumber"}},
    )


def write_jsonl(path: Path, records: tuple[SourceRecord, ...] | list[SourceRecord]) -> None:
    path.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def table(text: str) -> dict[str, list[str]]:
    """The rows of a printed table, by their first cell (the lines after the dashes)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    return {line.split()[0]: line.split()[1:] for line in lines[start:] if line.strip()}


class TestRecordFiles:
    """perfkit's own record files: JSON / JSONL of SourceRecord.to_dict(), read back exactly."""

    field_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(10**12), 10**12)
        | st.text(max_size=6)
        | st.decimals(allow_nan=False, allow_infinity=False, places=3)
        | st.dates()
        | st.datetimes(timezones=st.just(timezone(timedelta(hours=8)))),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(min_size=1, max_size=4), inner, max_size=3),
        max_leaves=8,
    )

    @settings(max_examples=60, deadline=None)
    @given(st.dictionaries(st.text(min_size=1, max_size=6), field_values, max_size=5))
    def test_to_dict_and_back_keeps_the_content_hash(self, fields: dict[str, Any]) -> None:
        record = SourceRecord.create(
            source="crm", record_id="R-1", entity="deal", occurred_at=LOADED, loaded_at=LOADED, fields=fields
        )
        text = json.dumps(record.to_dict(), ensure_ascii=False)
        again = SourceRecord.from_dict(json.loads(text, parse_float=Decimal))
        assert again.content_hash == record.content_hash and again.loaded_at == record.loaded_at
        assert again.to_dict() == record.to_dict()

    def test_json_and_jsonl_files_read_back_with_corrections(self, tmp_path: Path) -> None:
        records = list(exported())
        fixed = correction(
            records[0], fields={"amount": Decimal(321000)}, actor="王芳", reason="add-on", loaded_at=LOADED
        )
        records.append(fixed)
        write_jsonl(tmp_path / "r.jsonl", records)
        (tmp_path / "r.json").write_text(json.dumps([r.to_dict() for r in records]), encoding="utf-8")
        for name in ("r.jsonl", "r.json"):
            again = read_records(tmp_path / name)
            assert [r.content_hash for r in again] == [r.content_hash for r in records]
            assert again[-1].original is not None and again[-1].original.field("amount") == records[0].field("amount")

    def test_the_records_of_a_lineage_export_read_back(self, tmp_path: Path) -> None:
        results = compute(load_metrics_text(METRICS, tmp_path), exported(), "2026-Q2", calendar=SHANGHAI)
        (tmp_path / "lineage.json").write_text(results.to_json(), encoding="utf-8")
        again = read_records(tmp_path / "lineage.json")
        behind = {r.content_hash for e in results.employees for m in results.metrics for r in results[e, m].records()}
        assert len(again) == 4 and {r.content_hash for r in again} == behind  # the 1 July deal is not in Q2

    def test_a_record_written_by_hand_needs_no_hash_and_reads_numbers_exactly(self, tmp_path: Path) -> None:
        (tmp_path / "r.jsonl").write_text(
            '{"source": "erp", "record_id": 17, "entity": "receipt", "occurred_at": "2026-05-01T09:00:00+08:00",'
            ' "loaded_at": "2026-07-01T00:00:00Z", "fields": {"amount": 0.1, "seller": "E001"}}\n',
            encoding="utf-8",
        )
        (record,) = read_records(tmp_path / "r.jsonl")
        assert record.key == ("erp", "17") and record.field("amount") == Decimal("0.1")

    def test_an_edited_record_is_refused_naming_file_and_line(self, tmp_path: Path) -> None:
        records = exported()
        write_jsonl(tmp_path / "r.jsonl", records)
        text = (tmp_path / "r.jsonl").read_text(encoding="utf-8").replace('"320000.0"', '"420000.0"')
        (tmp_path / "r.jsonl").write_text(text, encoding="utf-8")
        with pytest.raises(DataError) as raised:
            read_records(tmp_path / "r.jsonl")
        assert raised.value.column == "content_hash"
        assert raised.value.path == f"{tmp_path / 'r.jsonl'}, line 1 (record salesforce:{records[0].record_id})"

    def test_every_bad_record_is_listed(self, tmp_path: Path) -> None:
        good = exported()[0].to_dict()
        lines = [
            {**good, "loaded_at": "2026-07-01T09:00:00"},
            {k: v for k, v in good.items() if k != "entity"},
            {**good, "colour": "red"},
            {**good, "types": {"amount": "date"}},
        ]
        (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
        with pytest.raises(DataError, match="4 records cannot be read") as raised:
            read_records(tmp_path / "r.jsonl")
        columns = [(p.column, (p.path or "").split(" (")[0][-6:]) for p in raised.value.problems]
        assert columns == [
            ("loaded_at", "line 1"),
            ("entity", "line 2"),
            ("colour", "line 3"),
            ("types.amount", "line 4"),
        ]

    def test_not_json_names_the_line(self, tmp_path: Path) -> None:
        (tmp_path / "r.jsonl").write_text("\n{oops\n", encoding="utf-8")
        with pytest.raises(DataError, match=r"r.jsonl, line 2: not valid JSON"):
            read_records(tmp_path / "r.jsonl")


def load_metrics_text(text: str, where: Path) -> Any:
    path = where / "defs.yaml"
    path.write_text(text, encoding="utf-8")
    return load_metrics(path)


class TestMetricsCommand:
    def test_the_table_shows_what_compute_gives(self, workdir: Path) -> None:
        code, out = run("metrics", "metrics.yaml", "export.json", *ADAPTER, "--period", "2026-Q2")
        assert code == 0
        expected = compute(load_metrics("metrics.yaml"), exported(), "2026-Q2", calendar=SHANGHAI)
        rows = table(out)
        assert sorted(rows) == list(expected.employees)
        for employee, cells in rows.items():
            assert [Decimal(c) for c in cells] == [expected[employee, m].value for m in expected.metrics]
        assert out.splitlines()[0].startswith("revenue, won, closed, win_rate in 2026-Q2 from 5 records (5 added")

    def test_json_is_the_lineage_document(self, workdir: Path) -> None:
        code, out = run("metrics", "metrics.yaml", "export.json", *ADAPTER, "--period", "2026-Q2", "--format", "json")
        expected = compute(load_metrics("metrics.yaml"), exported(), "2026-Q2", calendar=SHANGHAI)
        assert code == 0 and json.loads(out) == json.loads(expected.to_json())

    def test_perfkit_record_files_are_the_default(self, workdir: Path) -> None:
        write_jsonl(workdir / "records.jsonl", exported())
        code, out = run(
            "metrics",
            "metrics.yaml",
            "records.jsonl",
            "--calendar-tz",
            "Asia/Shanghai",
            "--period",
            "2026-Q2",
            "--format",
            "json",
        )
        expected = compute(load_metrics("metrics.yaml"), exported(), "2026-Q2", calendar=SHANGHAI)
        assert code == 0 and json.loads(out) == json.loads(expected.to_json())

    def test_the_same_record_in_two_files_counts_once(self, workdir: Path) -> None:
        write_jsonl(workdir / "a.jsonl", exported())
        write_jsonl(workdir / "b.jsonl", exported()[:2])
        code, out = run(
            "metrics",
            "metrics.yaml",
            "a.jsonl",
            "b.jsonl",
            "--calendar-tz",
            "Asia/Shanghai",
            "--period",
            "2026-Q2",
            "--metric",
            "revenue",
        )
        assert code == 0 and "(5 added, 0 new versions, 2 duplicates ignored)" in out
        expected = compute(load_metrics("metrics.yaml"), exported(), "2026-Q2", calendar=SHANGHAI, metrics=["revenue"])
        assert table(out)["E001"] == [format(expected["E001", "revenue"].value, "f")]

    def test_as_of_leaves_out_later_versions(self, workdir: Path) -> None:
        records = list(exported())
        records.append(
            correction(
                records[0], fields={"amount": 1}, actor="王芳", reason="typo", loaded_at=LOADED + timedelta(days=9)
            )
        )
        write_jsonl(workdir / "r.jsonl", records)
        common = (
            "metrics",
            "metrics.yaml",
            "r.jsonl",
            "--calendar-tz",
            "Asia/Shanghai",
            "--period",
            "2026-Q2",
            "--metric",
            "revenue",
        )
        _, live = run(*common)
        code, closed = run(*common, "--as-of", (LOADED + timedelta(days=1)).isoformat())
        assert code == 0 and "1 later record versions excluded" in closed
        assert Decimal(table(closed)["E001"][0]) - Decimal(table(live)["E001"][0]) == records[0].field("amount") - 1

    def test_fiscal_years_and_custom_periods(self, workdir: Path) -> None:
        code, out = run(
            "metrics",
            "metrics.yaml",
            "export.json",
            *ADAPTER,
            "--fiscal-start",
            "4",
            "--period",
            "FY2027-Q1",
            "--metric",
            "revenue",
        )
        assert code == 0 and "in FY2027-Q1" in out
        _, quarter = run(
            "metrics", "metrics.yaml", "export.json", *ADAPTER, "--period", "2026-Q2", "--metric", "revenue"
        )
        assert table(out) == table(quarter)

    def test_the_adapter_tz_defaults_to_the_calendar_and_is_required_for_dates(self, workdir: Path) -> None:
        code, out = run(
            "metrics",
            "metrics.yaml",
            "export.json",
            "--adapter",
            "salesforce",
            "--mapping",
            "mapping.yaml",
            "--period",
            "2026-Q2",
        )
        assert code == 1 and "tz" in out and "midnight" in out
        code, out = run(
            "metrics",
            "metrics.yaml",
            "export.json",
            "--adapter",
            "salesforce",
            "--mapping",
            "mapping.yaml",
            "--tz",
            "UTC",
            "--period",
            "2026-Q2",
        )
        assert code == 0 and "E001" in out

    def test_bad_input_exits_1_with_the_problem(self, workdir: Path) -> None:
        code, out = run("metrics", "metrics.yaml", "export.json", *ADAPTER, "--period", "2026-Q5")
        assert code == 1 and "a year has Q1 to Q4" in out
        code, out = run(
            "metrics", "metrics.yaml", "export.json", *ADAPTER, "--period", "2026-Q2", "--as-of", "2026-07-01T00:00"
        )
        assert code == 1 and "--as-of '2026-07-01T00:00' has no UTC offset" in out
        code, out = run("metrics", "metrics.yaml", "missing.json", *ADAPTER, "--period", "2026-Q2")
        assert code == 1 and "missing.json: file not found" in out
        code, out = run("metrics", "metrics.yaml", "export.json", "--period", "2026-Q2")
        assert code == 1 and "export.json: not a perfkit records file" in out and "--adapter" in out

    @pytest.mark.parametrize(
        "extra",
        [
            ["--mapping", "mapping.yaml"],
            ["--units", "units.csv"],
        ],
    )
    def test_usage_errors_exit_2(self, workdir: Path, extra: list[str]) -> None:
        with pytest.raises(SystemExit) as raised:
            run("metrics", "metrics.yaml", "export.json", "--period", "2026-Q2", *extra)
        assert raised.value.code == 2

    def test_the_period_is_required(self, workdir: Path) -> None:
        with pytest.raises(SystemExit) as raised:
            run("metrics", "metrics.yaml", "export.json")
        assert raised.value.code == 2


def api_result(**changes: Any) -> Any:
    arguments: dict[str, Any] = {"calendar": SHANGHAI}
    arguments.update(changes)
    return evaluate_records(
        load_scheme("scheme.yaml"), load_metrics("metrics.yaml"), exported(), "2026-Q2", **arguments
    )


RECORDS_ARGS = ["--metrics", "metrics.yaml", "--records", "export.json", *ADAPTER, "--period", "2026-Q2"]


class TestScoreFromRecords:
    def test_json_is_the_evaluation_the_api_gives(self, workdir: Path) -> None:
        code, out = run("score", "scheme.yaml", "targets.csv", *RECORDS_ARGS, "--format", "json")
        from perfkit.io.rows import read_rows

        expected = api_result(rows=read_rows("targets.csv"))
        assert code == 0 and json.loads(out) == json.loads(expected.evaluation.to_json())
        assert {c["employee_id"] for c in json.loads(out)} == {"E001", "E002", "E003"}

    def test_data_is_optional(self, workdir: Path) -> None:
        code, out = run("score", "scheme.yaml", *RECORDS_ARGS)
        expected = api_result()
        assert code == 0
        assert {k: v[-2] for k, v in table(out).items()} == {c.employee_id: c.grade for c in expected}

    def test_lineage_is_written_to_a_file(self, workdir: Path) -> None:
        code, _ = run("score", "scheme.yaml", "targets.csv", *RECORDS_ARGS, "--lineage", "lineage.json")
        data = json.loads((workdir / "lineage.json").read_text(encoding="utf-8"))
        assert code == 0 and data["format"] == "perfkit-scoring/1" and data["bindings"]["sales"] == "revenue"
        assert any(key.startswith("salesforce:0068d00000Zx101AAR@") for key in data["metrics"]["records"])

    def test_collected_problems_exit_1_and_the_rest_is_scored(self, workdir: Path) -> None:
        (workdir / "scheme.yaml").write_text(
            SCHEME.replace("win_rate, min: 0, max: 1, default: 0", "win_rate, min: 0, max: 1"), encoding="utf-8"
        )
        code, out = run("score", "scheme.yaml", "targets.csv", *RECORDS_ARGS, "--collect-errors")
        assert code == 1 and "E001" in table(out) and "E003" not in table(out)
        assert "error: employee 'E003', column 'win_rate': metric 'win_rate' has no data in 2026-Q2" in out

    @pytest.mark.parametrize(
        "args",
        [
            ["score", "scheme.yaml", "--records", "export.json", "--period", "2026-Q2"],
            ["score", "scheme.yaml", "targets.csv", "--metrics", "metrics.yaml"],
            ["score", "scheme.yaml"],
            ["score", "scheme.yaml", "targets.csv", "--lineage", "x.json"],
            ["explain", "scheme.yaml", "E001", "--metrics", "metrics.yaml", "--records", "export.json"],
        ],
    )
    def test_half_given_options_are_usage_errors(self, workdir: Path, args: list[str]) -> None:
        with pytest.raises(SystemExit) as raised:
            run(*args)
        assert raised.value.code == 2


class TestExplainFromRecords:
    def test_the_explanation_reaches_the_salesforce_records(self, workdir: Path) -> None:
        code, out = run("explain", "scheme.yaml", "targets.csv", "E001", *RECORDS_ARGS)
        from perfkit.io.rows import read_rows

        expected = api_result(rows=read_rows("targets.csv")).explain("E001").to_text()
        assert code == 0 and out == expected + "\n"
        assert "salesforce:0068d00000Zx101AAR@" in out and "salesforce:0068d00000Zx103AAR@" in out
        assert "0068d00000Zx105AAR" not in out

    def test_without_data_and_as_json(self, workdir: Path) -> None:
        code, out = run("explain", "scheme.yaml", "E002", *RECORDS_ARGS, "--format", "json")
        data = json.loads(out)
        assert code == 0 and data["employee_id"] == "E002"
        assert {r["record_id"] for r in data["records"].values()} == {"0068d00000Zx104AAR"}

    def test_an_unscored_employee_says_why(self, workdir: Path) -> None:
        (workdir / "scheme.yaml").write_text(
            SCHEME.replace("win_rate, min: 0, max: 1, default: 0", "win_rate, min: 0, max: 1"), encoding="utf-8"
        )
        code, out = run("explain", "scheme.yaml", "targets.csv", "E003", *RECORDS_ARGS)
        assert code == 1 and "employee 'E003': the employee was not scored: metric 'win_rate' has no data" in out

    def test_the_table_explain_still_works(self, workdir: Path) -> None:
        (workdir / "rows.csv").write_text("employee_id,sales,win_rate,target\nE9,100,0.5,100\n", encoding="utf-8")
        code, out = run("explain", "scheme.yaml", "rows.csv", "E9")
        assert code == 0 and out.startswith("employee E9 · scheme crm-sales")


def test_dates_in_the_fixture_straddle_the_quarter() -> None:
    """The fixture means something: one deal closes on 30 June and one on 1 July (Shanghai)."""
    closes = {r.record_id: r.field("close_date") for r in exported()}
    assert closes["0068d00000Zx102AAR"] == date(2026, 6, 30) and closes["0068d00000Zx105AAR"] == date(2026, 7, 1)
