"""``extends:``: role schemes built on company-wide bases, checked and located as a whole."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import perfkit as pk
from perfkit._extends import Origin, Resolved, read_file, resolve
from perfkit._files import read_text

COMPANY = """\
perfkit: 1
id: company
name: 公司通用规则
version: "2026.1"
period: 2026-Q2
inputs:
  attitude:   {min: 1, max: 5, source: manager_rating}
  attendance: {min: 0, max: 1}
  complaints: {unit: count, min: 0, default: 0}
kpis:
  - id: attitude
    name: 工作态度
    weight: 10%
    score: attitude * 20
  - id: attendance
    name: 出勤
    weight: 10%
    score: attendance * 100
rounding: {kpi: 1, mode: half_even}
rules:
  - id: complaints-cap
    when: complaints >= 3
    then: {cap_grade: B}
    reason: 当月有效投诉3次及以上,最高B级
grades:
  - {grade: A, min_score: 90}
  - {grade: B, min_score: 75}
  - {grade: C}
tests:
  - name: company example
    inputs: {sales: 100, sales_target: 100, attitude: 5}
    expect: {grade: A}
"""

SALES = """\
perfkit: 1
id: sales-quarterly
extends: company.yaml
inputs:
  attendance: {remove: true}
  attitude: {description: 主管评分}
  sales: {unit: CNY, min: 0}
  sales_target: {unit: CNY, min: 0}
kpis:
  - {id: attitude, weight: 20%}
  - {id: attendance, remove: true}
  - id: revenue
    weight: 80%
    score: clamp(ratio(sales, sales_target, default=0) * 100, 0, 120)
rounding: {total: 1}
rules:
  - id: top-seller
    when: revenue >= 110
    then: {floor_grade: A}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def resolve_file(path: Path) -> Resolved:
    data, positions = read_file(path)
    return resolve(data, source=str(path), positions=positions)


def problems_of(path: Path) -> list[pk.SchemeError]:
    with pytest.raises(pk.SchemeError) as info:
        resolve_file(path)
    return [p for p in info.value.problems if isinstance(p, pk.SchemeError)]


def line_of(path: Path, text: str) -> int:
    """The 1-based line of ``path`` where ``text`` first appears."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def minimal(scheme_id: str, *, extends: str | None = None, kpis: str = "") -> str:
    """A small scheme file text: one input, one 100% KPI unless ``kpis`` replaces them."""
    head = f"perfkit: 1\nid: {scheme_id}\n" + (f"extends: {extends}\n" if extends else "")
    body = kpis or "inputs:\n  x: {min: 0, max: 100}\nkpis:\n  - {id: k, weight: 100%, score: x}\n"
    return head + body + "grades:\n  - {grade: all}\n"


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    write(tmp_path, "company.yaml", COMPANY)
    return write(tmp_path, "sales.yaml", SALES)


class TestRoleScheme:
    """A role scheme on a company base: override a weight, add a KPI, remove one."""

    def test_the_combined_scheme_loads_and_scores(self, sales: Path) -> None:
        scheme = pk.Scheme.from_dict(resolve_file(sales).data)
        result = pk.evaluate(
            scheme,
            [
                {"employee_id": "S1", "sales": 90, "sales_target": 100, "attitude": 4},
                {"employee_id": "S2", "sales": 90, "sales_target": 100, "attitude": 5, "complaints": 3},
                {"employee_id": "S3", "sales": 112, "sales_target": 100, "attitude": 1},
            ],
        )
        s1, s2, s3 = result["S1"], result["S2"], result["S3"]
        assert (s1.total, s1.grade) == (Decimal("88.0"), "B")  # 90 × 80% + 80 × 20%
        assert (s2.total, s2.band_grade, s2.grade, s2.rules) == (Decimal("92.0"), "A", "B", ("complaints-cap",))
        assert (s3.total, s3.band_grade, s3.grade, s3.rules) == (Decimal("93.6"), "A", "A", ("top-seller",))

    def test_an_override_changes_only_the_fields_it_gives_and_keeps_its_place(self, sales: Path) -> None:
        kpis = resolve_file(sales).data["kpis"]
        assert [k["id"] for k in kpis] == ["attitude", "revenue"]
        assert kpis[0] == {"id": "attitude", "name": "工作态度", "weight": "20%", "score": "attitude * 20"}

    def test_rules_of_the_base_come_first_then_new_ones(self, sales: Path) -> None:
        assert [r["id"] for r in resolve_file(sales).data["rules"]] == ["complaints-cap", "top-seller"]

    def test_inputs_merge_by_name_and_field_by_field(self, sales: Path) -> None:
        inputs = resolve_file(sales).data["inputs"]
        assert list(inputs) == ["attitude", "complaints", "sales", "sales_target"]
        assert inputs["attitude"] == {"min": 1, "max": 5, "source": "manager_rating", "description": "主管评分"}

    def test_rounding_merges_field_by_field_and_grades_are_inherited(self, sales: Path) -> None:
        data = resolve_file(sales).data
        assert data["rounding"] == {"kpi": 1, "mode": "half_even", "total": 1}
        assert [g["grade"] for g in data["grades"]] == ["A", "B", "C"]

    def test_grades_given_by_the_role_replace_the_base_bands_whole(self, tmp_path: Path, sales: Path) -> None:
        write(tmp_path, "sales.yaml", SALES + "grades:\n  - {grade: pass, min_score: 60}\n  - {grade: fail}\n")
        assert resolve_file(sales).data["grades"] == [{"grade": "pass", "min_score": 60}, {"grade": "fail"}]

    def test_worked_examples_of_base_and_role_are_concatenated(self, tmp_path: Path, sales: Path) -> None:
        extra = (
            "tests:\n  - name: role example\n"
            "    inputs: {sales: 0, sales_target: 100, attitude: 1}\n    expect: {grade: C}\n"
        )
        write(tmp_path, "sales.yaml", SALES + extra)
        assert [t["name"] for t in resolve_file(sales).data["tests"]] == ["company example", "role example"]

    def test_the_scheme_own_fields_are_not_inherited_but_others_are(self, sales: Path) -> None:
        data = resolve_file(sales).data
        assert (data["id"], data["period"]) == ("sales-quarterly", "2026-Q2")
        assert "name" not in data and "version" not in data

    def test_no_extends_or_remove_is_left(self, sales: Path) -> None:
        data = resolve_file(sales).data
        assert "extends" not in data
        assert all("remove" not in k for k in data["kpis"])
        assert all("remove" not in spec for spec in data["inputs"].values())

    def test_nothing_passed_in_is_modified_and_the_result_shares_nothing(self, tmp_path: Path) -> None:
        company = read_text(COMPANY, source="company.yaml")
        role, positions = read_text(SALES, source="sales.yaml")
        before = copy.deepcopy((company, role, positions))
        resolved = resolve(role, source=str(tmp_path / "sales.yaml"), positions=positions, read=lambda path: company)
        assert (company, role, positions) == before
        resolved.data["kpis"][0]["weight"] = "1%"
        resolved.data["rules"][0]["then"]["cap_grade"] = "C"
        assert (company, role, positions) == before


class TestWithoutExtends:
    def test_a_scheme_without_extends_comes_back_unchanged(self, tmp_path: Path) -> None:
        path = write(tmp_path, "company.yaml", COMPANY)
        data, positions = read_file(path)
        resolved = resolve(data, source=str(path), positions=positions)
        assert resolved.data == data
        assert resolved.origins == {loc: Origin(str(path), line) for loc, line in positions.items()}
        assert resolved.files == (str(path),)

    def test_plain_data_without_a_file_or_positions(self) -> None:
        data = read_text(minimal("tiny"))[0]
        resolved = resolve(data, source=None, positions={})
        assert resolved.data == data
        assert resolved.origin("kpis[0].weight") == Origin(None, None)
        assert resolved.kpi_sources == {"k": None}


class TestOrder:
    """Which files apply, and in which order."""

    def test_a_base_may_extend_another(self, tmp_path: Path) -> None:
        write(tmp_path, "c.yaml", minimal("c"))
        write(tmp_path, "b.yaml", "perfkit: 1\nextends: c.yaml\ninputs:\n  y: {min: 0, max: 100}\n")
        a = write(tmp_path, "a.yaml", "perfkit: 1\nid: a\nextends: b.yaml\nkpis:\n  - {id: k, score: y}\n")
        resolved = resolve_file(a)
        assert resolved.files == (str(tmp_path / "c.yaml"), str(tmp_path / "b.yaml"), str(a))
        scheme = pk.Scheme.from_dict(resolved.data)
        assert pk.evaluate(scheme, [{"employee_id": 1, "x": 10, "y": 70}])["1"].total == Decimal("70.00")

    def test_several_bases_apply_in_order_then_the_extending_file(self, tmp_path: Path) -> None:
        write(tmp_path, "one.yaml", minimal("one") + "period: one\ntotal: k\n")
        write(tmp_path, "two.yaml", "perfkit: 1\nperiod: two\ntotal: k * 1\nkpis:\n  - {id: k, name: from two}\n")
        role = write(tmp_path, "role.yaml", "perfkit: 1\nid: role\nextends: [one.yaml, two.yaml]\nperiod: role\n")
        data = resolve_file(role).data
        assert (data["period"], data["total"], data["kpis"][0]["name"]) == ("role", "k * 1", "from two")

    def test_a_shared_base_applies_once_so_overrides_on_top_of_it_survive(self, tmp_path: Path) -> None:
        write(tmp_path, "d.yaml", minimal("d"))
        write(tmp_path, "b.yaml", "perfkit: 1\nextends: d.yaml\nkpis:\n  - {id: k, name: from b}\n")
        write(tmp_path, "c.yaml", "perfkit: 1\nextends: d.yaml\nperiod: from c\n")
        a = write(tmp_path, "a.yaml", "perfkit: 1\nid: a\nextends: [b.yaml, c.yaml]\n")
        resolved = resolve_file(a)
        assert [Path(f or "").name for f in resolved.files] == ["d.yaml", "b.yaml", "c.yaml", "a.yaml"]
        assert (resolved.data["kpis"][0]["name"], resolved.data["period"]) == ("from b", "from c")

    def test_paths_are_relative_to_the_file_that_says_extends(self, tmp_path: Path) -> None:
        write(tmp_path, "shared/company.yaml", minimal("company"))
        write(tmp_path, "roles/base.yaml", "perfkit: 1\nextends: ../shared/company.yaml\n")
        role = write(tmp_path, "roles/sales/role.yaml", "perfkit: 1\nid: role\nextends: ../base.yaml\n")
        resolved = resolve_file(role)
        assert resolved.kpi_sources == {"k": str(tmp_path / "shared" / "company.yaml")}

    def test_a_removed_kpi_stays_removed_under_later_layers(self, tmp_path: Path) -> None:
        two = (
            "inputs:\n  x: {min: 0, max: 100}\n"
            "kpis:\n  - {id: k, weight: 50%, score: x}\n  - {id: j, weight: 50%, score: x}\n"
        )
        write(tmp_path, "base.yaml", minimal("base", kpis=two))
        write(tmp_path, "mid.yaml", "perfkit: 1\nextends: base.yaml\nkpis:\n  - {id: j, remove: true}\n")
        role_text = "perfkit: 1\nid: role\nextends: mid.yaml\nkpis:\n  - {id: k, weight: 100%}\n"
        role = write(tmp_path, "role.yaml", role_text)
        scheme = pk.Scheme.from_dict(resolve_file(role).data)
        assert [k.id for k in scheme.kpis] == ["k"]


class TestSources:
    """Which file each KPI and rule came from, for explanations."""

    def test_kpis_and_rules_name_the_file_that_last_defined_or_overrode_them(self, tmp_path: Path, sales: Path) -> None:
        resolved = resolve_file(sales)
        company, role = str(tmp_path / "company.yaml"), str(sales)
        assert resolved.kpi_sources == {"attitude": role, "revenue": role}
        assert resolved.rule_sources == {"complaints-cap": company, "top-seller": role}

    def test_the_files_in_the_order_they_apply(self, tmp_path: Path, sales: Path) -> None:
        assert resolve_file(sales).files == (str(tmp_path / "company.yaml"), str(sales))


class TestOrigins:
    """A problem in the combined scheme is named at the file and line to fix."""

    def locate(self, resolved: Resolved) -> list[pk.SchemeError]:
        with pytest.raises(pk.SchemeError) as info:
            pk.Scheme.from_dict(resolved.data)
        return [resolved.locate(p) for p in info.value.problems if isinstance(p, pk.SchemeError)]

    def test_overridden_fields_point_at_the_role_and_the_rest_at_the_base(self, tmp_path: Path, sales: Path) -> None:
        resolved = resolve_file(sales)
        company = tmp_path / "company.yaml"
        assert resolved.origin("kpis[0].weight") == Origin(str(sales), line_of(sales, "{id: attitude, weight: 20%}"))
        assert resolved.origin("kpis[0].score") == Origin(str(company), line_of(company, "score: attitude * 20"))
        assert resolved.origin(("rules", 0, "then", "cap_grade")) == Origin(str(company), line_of(company, "cap_grade"))
        assert resolved.origin("rounding.mode") == Origin(str(company), line_of(company, "rounding:"))
        assert resolved.origin("inputs.sales.min") == Origin(str(sales), line_of(sales, "sales: {unit"))

    def test_a_bad_weight_in_the_base_is_reported_at_the_base_line(self, tmp_path: Path, sales: Path) -> None:
        bad = COMPANY.replace("weight: 10%\n    score: attitude", "weight: 140%\n    score: attitude")
        company = write(tmp_path, "company.yaml", bad)
        write(tmp_path, "sales.yaml", SALES.replace("- {id: attitude, weight: 20%}", "- {id: attitude, name: 态度}"))
        (problem, *_) = [p for p in self.locate(resolve_file(sales)) if p.path == "kpis[0].weight"]
        assert (problem.source, problem.line) == (str(company), line_of(company, "weight: 140%"))

    def test_weights_that_do_not_sum_are_reported_at_the_last_kpis_list(self, sales: Path) -> None:
        write(sales.parent, "sales.yaml", SALES.replace("weight: 80%", "weight: 70%"))
        (problem,) = self.locate(resolve_file(sales))
        assert (problem.path, problem.source, problem.line) == ("kpis", str(sales), line_of(sales, "kpis:"))
        assert "90%" in problem.message

    def test_a_missing_field_is_reported_at_the_entry(self, tmp_path: Path) -> None:
        incomplete = minimal("base").replace("{id: k, weight: 100%, score: x}", "{id: k, weight: 100%}")
        base = write(tmp_path, "base.yaml", incomplete)
        role = write(tmp_path, "role.yaml", "perfkit: 1\nid: role\nextends: base.yaml\n")
        (problem,) = self.locate(resolve_file(role))
        assert (problem.path, problem.source, problem.line) == ("kpis[0].score", str(base), line_of(base, "{id: k"))

    def test_a_missing_top_level_field_is_reported_at_the_extending_file(self, tmp_path: Path) -> None:
        write(tmp_path, "base.yaml", minimal("base"))
        role = write(tmp_path, "role.yaml", "perfkit: 1\nextends: base.yaml\n")
        (problem,) = self.locate(resolve_file(role))
        assert (problem.path, problem.source, problem.line) == ("id", str(role), 1)


class TestProblems:
    """Mistakes in ``extends`` itself: each one located, all reported together."""

    def test_a_missing_base_is_named_at_the_line_of_its_entry(self, tmp_path: Path) -> None:
        role = write(tmp_path, "role.yaml", "perfkit: 1\nid: role\nextends:\n  - company.yaml\n  - nowhere.yaml\n")
        write(tmp_path, "company.yaml", minimal("company"))
        (problem,) = problems_of(role)
        assert (problem.source, problem.line, problem.path) == (str(role), 5, "extends[1]")
        assert problem.message == f"'nowhere.yaml': file not found (looked for {tmp_path / 'nowhere.yaml'})"
        assert str(problem).startswith(f"{role}:5: extends[1]: 'nowhere.yaml': file not found")

    def test_a_cycle_names_the_files_in_order(self, tmp_path: Path) -> None:
        a = write(tmp_path, "a.yaml", minimal("a", extends="b.yaml"))
        b = write(tmp_path, "b.yaml", "perfkit: 1\nextends: c.yaml\n")
        c = write(tmp_path, "c.yaml", "perfkit: 1\n\nextends: a.yaml\n")
        (problem,) = problems_of(a)
        assert problem.message == f"extends cycle: {a} → {b} → {c} → {a}"
        assert (problem.source, problem.line, problem.path) == (str(c), 3, "extends")

    def test_a_file_that_extends_itself(self, tmp_path: Path) -> None:
        a = write(tmp_path, "a.yaml", minimal("a", extends="./a.yaml"))
        (problem,) = problems_of(a)
        assert problem.message == f"extends cycle: {a} → {a}"

    def test_every_problem_is_reported_together(self, tmp_path: Path) -> None:
        write(tmp_path, "base.yaml", "perfkit: 1\nextends: missing.yaml\n")
        role = write(tmp_path, "role.yaml", minimal("role", extends="[base.yaml, role.yaml, 7]"))
        with pytest.raises(pk.SchemeError) as info:
            resolve_file(role)
        assert len(info.value.problems) == 3
        head = f"scheme 'role' ({role}) has 3 problems:\n1. {role}:3: extends"
        assert str(info.value).startswith(head)  # the file's own problems first, then its bases'
        assert all(isinstance(p, pk.SchemeError) and p.scheme_id == "role" for p in info.value.problems)
        assert [(d["source"], d["message"].split(":")[0]) for d in info.value.to_dict()["problems"]] == [
            (str(role), "extends cycle"),
            (str(role), "expected the name of a scheme file, got 7"),
            (str(tmp_path / "base.yaml"), "'missing.yaml'"),
        ]

    @pytest.mark.parametrize("value", ["3", "{file: base.yaml}", "null", "''"])
    def test_extends_must_be_a_file_name_or_a_list_of_them(self, tmp_path: Path, value: str) -> None:
        role = write(tmp_path, "role.yaml", minimal("role", extends=value))
        (problem,) = problems_of(role)
        assert problem.path in ("extends", "extends[0]") and problem.line == 3
        assert problem.message.startswith("expected")

    def test_removing_a_kpi_no_base_defines_suggests_a_close_id(self, tmp_path: Path, sales: Path) -> None:
        write(tmp_path, "sales.yaml", SALES.replace("{id: attendance, remove: true}", "{id: attendence, remove: true}"))
        (problem,) = problems_of(sales)
        assert problem.message == "cannot remove the KPI 'attendence': no base defines it; did you mean 'attendance'?"
        assert (problem.path, problem.line) == ("kpis[1].id", line_of(sales, "attendence"))

    def test_removing_an_input_no_base_declares(self, tmp_path: Path, sales: Path) -> None:
        write(tmp_path, "sales.yaml", SALES.replace("attendance: {remove: true}", "absence: {remove: true}"))
        (problem,) = problems_of(sales)
        assert problem.path == "inputs.absence"
        assert problem.message == "cannot remove the input 'absence': no base declares it"

    def test_a_removal_takes_no_other_fields_and_is_true_or_false(self, tmp_path: Path, sales: Path) -> None:
        text = SALES.replace("{id: attendance, remove: true}", "{id: attendance, remove: true, weight: 0%}")
        write(tmp_path, "sales.yaml", text.replace("attendance: {remove: true}", "attendance: {remove: 1}"))
        problems = problems_of(sales)
        assert [(p.path, p.message) for p in problems] == [
            ("inputs.attendance.remove", "'remove' is true or false, got 1"),
            ("kpis[1]", "a removed KPI takes no other fields: leave out 'weight', or 'remove'"),
        ]

    def test_remove_false_is_the_same_as_leaving_it_out(self, tmp_path: Path, sales: Path) -> None:
        kept = SALES.replace("{id: attitude, weight: 20%}", "{id: attitude, weight: 20%, remove: false}")
        write(tmp_path, "sales.yaml", kept)
        assert resolve_file(sales).data["kpis"][0]["weight"] == "20%"

    def test_overriding_a_kpi_no_base_defines_is_an_error(self, tmp_path: Path, sales: Path) -> None:
        """A misspelt id is reported as such, not as a new KPI that lacks a score."""
        write(tmp_path, "sales.yaml", SALES.replace("{id: attitude, weight: 20%}", "{id: atitude, weight: 20%}"))
        (problem,) = problems_of(sales)
        assert problem.message == (
            "no base defines a KPI 'atitude' to override, and a new KPI needs 'weight' and 'score'; "
            "did you mean 'attitude'?"
        )
        assert (problem.source, problem.path) == (str(sales), "kpis[0].id")

    def test_overriding_a_rule_no_base_defines(self, tmp_path: Path, sales: Path) -> None:
        write(tmp_path, "sales.yaml", SALES + "  - {id: complaint-cap, reason: stricter}\n")
        (problem,) = problems_of(sales)
        assert problem.message.startswith("no base defines a rule 'complaint-cap' to override")
        assert problem.message.endswith("did you mean 'complaints-cap'?")

    def test_without_bases_an_incomplete_kpi_is_left_to_the_scheme_check(self) -> None:
        data = read_text(minimal("tiny").replace("{id: k, weight: 100%, score: x}", "{id: k, weight: 100%}"))[0]
        assert resolve(data, source=None, positions={}).data == data

    def test_a_base_that_is_not_a_mapping(self, tmp_path: Path) -> None:
        base = write(tmp_path, "base.yaml", "- perfkit: 1\n")
        role = write(tmp_path, "role.yaml", minimal("role", extends="base.yaml"))
        (problem,) = problems_of(role)
        assert (problem.source, problem.line) == (str(base), 1)
        assert problem.message.startswith("a base scheme is a mapping of fields")
        assert problem.message.endswith("got list")

    def test_an_empty_base_file(self, tmp_path: Path) -> None:
        write(tmp_path, "base.yaml", "")
        role = write(tmp_path, "role.yaml", minimal("role", extends="base.yaml"))
        (problem,) = problems_of(role)
        assert problem.message.endswith("got NoneType")

    def test_a_base_says_its_format_version(self, tmp_path: Path) -> None:
        write(tmp_path, "one.yaml", "inputs: {}\n")
        two = write(tmp_path, "two.yaml", "inputs: {}\nperfkit: 2\n")
        role = write(tmp_path, "role.yaml", minimal("role", extends="[one.yaml, two.yaml]"))
        first, second = problems_of(role)
        assert (first.source, first.path) == (str(tmp_path / "one.yaml"), "perfkit")
        assert first.message == "a base scheme says its format version too: add 'perfkit: 1'"
        assert (second.source, second.line, second.message) == (
            str(two), 2, "this perfkit reads scheme format version 1; the file says 2"
        )

    def test_a_syntax_error_in_a_base_is_reported_in_the_base(self, tmp_path: Path) -> None:
        base = write(tmp_path, "base.yaml", "perfkit: 1\nkpis: [\n")
        role = write(tmp_path, "role.yaml", minimal("role", extends="base.yaml"))
        (problem,) = problems_of(role)
        assert problem.source == str(base) and problem.message.startswith("not valid YAML")

    def test_a_base_shared_by_two_files_reports_its_problems_once(self, tmp_path: Path) -> None:
        write(tmp_path, "d.yaml", "kpis: []\n")
        write(tmp_path, "b.yaml", "perfkit: 1\nextends: d.yaml\n")
        write(tmp_path, "c.yaml", "perfkit: 1\nextends: d.yaml\n")
        role = write(tmp_path, "role.yaml", minimal("role", extends="[b.yaml, c.yaml]"))
        assert [p.source for p in problems_of(role)] == [str(tmp_path / "d.yaml")]

    def test_a_custom_reader_sees_the_path_and_reports_missing_files(self, tmp_path: Path) -> None:
        files: dict[str, Any] = {"company.yaml": read_text(COMPANY)}
        asked: list[Path] = []

        def read(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
            asked.append(path)
            if path.name not in files:
                raise FileNotFoundError(path)
            result: tuple[Any, dict[tuple[Any, ...], int]] = files[path.name]
            return result

        role, positions = read_text(SALES.replace("company.yaml", "[company.yaml, other.yaml]"))
        with pytest.raises(pk.SchemeError, match="'other.yaml': file not found"):
            resolve(role, source=None, positions=positions, read=read)
        assert asked == [Path("company.yaml"), Path("other.yaml")]


class TestLoadingSchemesThatExtend:
    """`load_scheme` resolves `extends`, locates problems in the right file, and explains sources."""

    COMPANY = """\
perfkit: 1
id: company
inputs:
  attitude: {min: 1, max: 5}
  incidents: {unit: count, min: 0, default: 0}
kpis:
  - {id: attitude, name: 工作态度, weight: 100%, score: attitude * 20}
rules:
  - {id: incidents, when: incidents > 2, then: {flag: needs_improvement}}
grades:
  - {grade: A, min_score: 85}
  - {grade: B, min_score: 0}
"""
    ROLE = """\
perfkit: 1
id: sales
extends: company.yaml
inputs:
  sales: {min: 0, max: 200}
kpis:
  - {id: attitude, weight: 40%}
  - {id: revenue, weight: 60%, score: sales / 2}
"""

    def write(self, tmp_path: Path, company: str, role: str) -> Path:
        (tmp_path / "company.yaml").write_text(company, encoding="utf-8")
        (tmp_path / "sales.yaml").write_text(role, encoding="utf-8")
        return tmp_path / "sales.yaml"

    def test_scores_and_explains_where_each_kpi_and_rule_came_from(self, tmp_path: Path) -> None:
        scheme = pk.load_scheme(self.write(tmp_path, self.COMPANY, self.ROLE))
        card = pk.evaluate(scheme, [{"employee_id": "a", "attitude": 5, "sales": 150, "incidents": 3}])["a"]
        assert card.total == Decimal("85.00") and card.flags == ("needs_improvement",)  # 100 × 40% + 75 × 60%
        text = str(card.explain())
        assert f"KPI attitude (工作态度), weight 40% (from {tmp_path / 'sales.yaml'})" in text
        assert f"KPI revenue, weight 60% (from {tmp_path / 'sales.yaml'})" in text
        assert f"rule incidents (from {tmp_path / 'company.yaml'}): when incidents > 2" in text

    def test_a_problem_in_the_base_is_reported_in_the_base_file(self, tmp_path: Path) -> None:
        bad_company = self.COMPANY.replace("then: {flag: needs_improvement}", "then: {cap_grade: Z}")
        problems = pk.validate_scheme(self.write(tmp_path, bad_company, self.ROLE))
        (problem,) = problems
        assert (problem.source, problem.line, problem.path) == (str(tmp_path / "company.yaml"), 9, "rules[0].then.cap_grade")

    def test_a_problem_of_the_combination_is_reported_in_the_role_file(self, tmp_path: Path) -> None:
        role = self.ROLE.replace("weight: 60%", "weight: 50%")
        (problem,) = pk.validate_scheme(self.write(tmp_path, self.COMPANY, role))
        assert problem.source == str(tmp_path / "sales.yaml") and "sum to 90%" in problem.message

    def test_the_combined_scheme_round_trips_without_extends(self, tmp_path: Path) -> None:
        scheme = pk.load_scheme(self.write(tmp_path, self.COMPANY, self.ROLE))
        again = pk.Scheme.from_yaml(scheme.to_yaml())
        assert again == scheme and "extends" not in scheme.to_yaml()
