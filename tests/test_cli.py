"""The perfkit command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import perfkit as pk
from perfkit.cli import main

SCHEME = pk.example_path("sales-quarterly.yaml")
DATA = pk.example_path("sales-sample.csv")


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), stdout=out)
    return code, out.getvalue()


class TestDemo:
    def test_demo_prints_the_table_and_one_explanation(self) -> None:
        code, out = run("demo")
        assert code == 0
        assert "销售岗季度考核" in out and "E012" in out
        assert "Why did E004 get B?" in out and "rule collection-cap: when collection_rate < 0.8 → fired" in out

    def test_python_dash_m_works(self) -> None:
        done = subprocess.run([sys.executable, "-m", "perfkit", "demo", "--format", "json"], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)) == 12


class TestValidate:
    def test_valid_scheme(self) -> None:
        assert run("validate", str(SCHEME)) == (0, f"{SCHEME}: ok\n")

    def test_every_problem_and_exit_1(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.yaml"
        bad.write_text(
            SCHEME.read_text(encoding="utf-8").replace("weight: 10%", "weight: 15%").replace("when: collection_rate < 0.8", "when: colection_rate < 0.8"),
            encoding="utf-8",
        )
        code, out = run("validate", str(bad))
        assert code == 1
        assert "2 problems" in out and "sum to 105%" in out and "did you mean 'collection_rate'?" in out
        code, out = run("validate", "--format", "json", str(bad))
        (report,) = json.loads(out)
        assert code == 1 and not report["ok"] and len(report["problems"]) == 2


class TestScore:
    def test_json_output_shape(self) -> None:
        code, out = run("score", str(SCHEME), str(DATA), "--format", "json")
        assert code == 0
        items = json.loads(out)
        e004 = next(i for i in items if i["employee_id"] == "E004")
        assert e004["kpis"] == {"revenue": "120.00", "satisfaction": "90.00", "collection": "78.00", "attitude": "80.00"}
        assert (e004["total"], e004["grade"], e004["flags"], e004["rules"]) == ("97.40", "B", [], ["collection-cap"])

    def test_csv_and_table(self) -> None:
        code, out = run("score", str(SCHEME), str(DATA), "--format", "csv")
        assert code == 0 and out.splitlines()[0].startswith("employee_id,name,department,revenue")
        code, out = run("score", str(SCHEME), str(DATA))
        assert code == 0 and "E010" in out

    @pytest.mark.parametrize("suffix", [".json", ".jsonl"])
    def test_json_and_jsonl_data(self, tmp_path: Path, suffix: str) -> None:
        rows = [{"employee_id": "j1", "sales": 1000, "sales_target": 1000, "csat": 5, "collection_rate": 0.95, "attitude": 5}]
        path = tmp_path / f"data{suffix}"
        path.write_text(json.dumps(rows) if suffix == ".json" else "\n".join(json.dumps(r) for r in rows), encoding="utf-8")
        code, out = run("score", str(SCHEME), str(path), "--format", "json")
        assert code == 0 and json.loads(out)[0]["total"] == "98.50"

    def test_bad_data_stops_or_is_collected(self, tmp_path: Path) -> None:
        data = tmp_path / "d.csv"
        data.write_text(DATA.read_text(encoding="utf-8").replace("E003,李娜,华东,880000", "E003,李娜,华东,lots"), encoding="utf-8")
        code, out = run("score", str(SCHEME), str(data))
        assert code == 1 and "employee 'E003', column 'sales'" in out
        code, out = run("score", str(SCHEME), str(data), "--collect-errors", "--format", "json")
        assert code == 1
        assert "employee 'E003'" in out

    def test_missing_files(self, tmp_path: Path) -> None:
        code, out = run("score", str(tmp_path / "none.yaml"), str(DATA))
        assert code == 1 and "file not found" in out


class TestExplainAndSchema:
    def test_explain_text_and_json(self) -> None:
        code, out = run("explain", str(SCHEME), str(DATA), "E010")
        assert code == 0 and "flags: needs_improvement" in out
        code, out = run("explain", str(SCHEME), str(DATA), "E010", "--format", "json")
        assert code == 0 and json.loads(out)["grade"] == "B"

    def test_explain_unknown_employee(self) -> None:
        code, out = run("explain", str(SCHEME), str(DATA), "E999")
        assert code == 1 and "no row with employee_id 'E999'" in out

    def test_schema(self) -> None:
        code, out = run("schema")
        assert code == 0 and json.loads(out)["title"].startswith("perfkit scheme")

    def test_no_command_prints_help(self) -> None:
        code, out = run()
        assert code == 2 and "validate" in out


class TestCalibrate:
    """`perfkit calibrate`: the distribution per pool before and after, in three formats."""

    def test_table_shows_each_pool_and_the_totals_before_and_after(self) -> None:
        code, out = run("calibrate", str(SCHEME), str(DATA))
        assert code == 0
        assert "pool 华东: 4 people" in out and "pool 华南: 4 people" in out
        before = next(line for line in out.splitlines()[::-1] if line.strip().startswith("before")).split()[1:]
        after = next(line for line in out.splitlines()[::-1] if line.strip().startswith("after")).split()[1:]
        assert sum(map(int, before)) == sum(map(int, after)) == 12

    def test_json_matches_the_python_api(self) -> None:
        code, out = run("calibrate", str(SCHEME), str(DATA), "--format", "json")
        assert code == 0
        data = json.loads(out)
        expected = pk.calibrate(pk.evaluate(SCHEME, pk.io.rows.read_rows(DATA)))
        assert {p["employee_id"]: p["proposed"] for p in data["people"]} == expected.grades()
        assert [pool["pool"] for pool in data["pools"]] == [pool.key for pool in expected.pools]
        assert data["ok"] is expected.ok

    def test_csv_has_one_row_per_person(self) -> None:
        code, out = run("calibrate", str(SCHEME), str(DATA), "--format", "csv")
        assert code == 0
        lines = out.strip().splitlines()
        assert lines[0].startswith("employee_id,pool,total,rule_grade,proposed")
        assert len(lines) == 13

    def test_policy_file_and_roster_merge_small_pools(self, tmp_path: Path) -> None:
        policy = tmp_path / "policy.yaml"
        policy.write_text("mode: hybrid\ngroup_by: department\nmin_pool_size: 5\ndistribution: {S+A: {max: 30%}}\n", encoding="utf-8")
        employees = tmp_path / "employees.csv"
        rows = pk.io.rows.read_rows(DATA)
        employees.write_text("id,unit\n" + "".join(f"{r['employee_id']},{r['department']}\n" for r in rows), encoding="utf-8")
        units = tmp_path / "units.csv"
        units.write_text("id,parent\n华东,销售中心\n华北,销售中心\n华南,销售中心\n销售中心,\n", encoding="utf-8")
        code, out = run(
            "calibrate", str(SCHEME), str(DATA), "--policy", str(policy), "--roster", str(employees), "--units", str(units)
        )
        assert code == 0, out
        assert "pool 销售中心: 12 people (merged: 华东, 华北, 华南)" in out
        assert "S+A at most 30%: 3 (allowed 0–3) ok" in out

    def test_a_bad_policy_is_reported_with_its_file(self, tmp_path: Path) -> None:
        policy = tmp_path / "policy.yaml"
        policy.write_text("distribution: {S: 60%, Q: 50%}\n", encoding="utf-8")
        code, out = run("calibrate", str(SCHEME), str(DATA), "--policy", str(policy))
        assert code == 1
        assert str(policy) in out and "unknown grade 'Q'" in out

    def test_units_without_roster_is_an_error(self, tmp_path: Path) -> None:
        code, out = run("calibrate", str(SCHEME), str(DATA), "--units", str(tmp_path / "u.csv"))
        assert code == 1 and "--units needs --roster" in out
