"""The org roster: people, managers and the unit tree, checked when built."""

from __future__ import annotations

import itertools
import random
import signal
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from perfkit.errors import DataError
from perfkit.org import Employee, OrgUnit, Roster

EMPLOYEES: list[dict[str, Any]] = [
    {"id": "1", "name": "王芳", "unit": "company", "role": "ceo"},
    {"id": "2", "name": "李强", "manager": "1", "unit": "sales", "role": "director"},
    {"id": "3", "name": "张伟", "manager": "2", "unit": "east", "level": "P5"},
    {"id": "4", "manager": "3", "unit": "east", "region": "上海"},
    {"id": "5", "manager": "3", "unit": "east"},
    {"id": "6", "manager": "2", "unit": "west"},
    {"id": "7", "manager": "1", "unit": "rd"},
]
UNITS: list[dict[str, Any]] = [
    {"id": "company", "name": "公司"},
    {"id": "sales", "name": "销售部", "parent": "company"},
    {"id": "east", "name": "华东", "parent": "sales"},
    {"id": "west", "name": "华西", "parent": "sales"},
    {"id": "rd", "name": "研发部", "parent": "company"},
]
ROSTER = Roster.from_records(EMPLOYEES, UNITS)


def problems_of(employees: Sequence[Mapping[str, Any]], units: Sequence[Mapping[str, Any]] = ()) -> list[DataError]:
    """Every problem a roster is refused with, as DataErrors."""
    with pytest.raises(DataError) as caught:
        Roster.from_records(employees, units)
    found = [p for p in caught.value.problems if isinstance(p, DataError)]
    assert len(found) == len(caught.value.problems)
    return found


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeoutError if the body runs longer than ``seconds`` (so a hang fails, not stalls)."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class TestFromRecords:
    def test_fields_and_attributes(self) -> None:
        person = ROSTER.employee("4")
        assert person == Employee(id="4", manager="3", unit="east", attributes=(("region", "上海"),))
        assert person.attribute("region") == "上海"
        assert person.attribute("unit") == "east"
        assert person.attribute("missing") is None
        assert ROSTER.employee("3").level == "P5"

    def test_employee_id_and_department_are_accepted_spellings(self) -> None:
        roster = Roster.from_records([{"employee_id": "9", "department": "hr", "team": "hr-1"}])
        person = roster.employee("9")
        assert person.unit == "hr"
        assert person.attribute("team") == "hr-1"

    def test_numbers_read_as_ids(self) -> None:
        roster = Roster.from_records([{"id": 1001.0, "unit": "a"}, {"id": 1002, "manager": 1001}])
        assert roster.manager_of("1002") == roster.employee("1001")

    def test_empty_cells_are_missing(self) -> None:
        roster = Roster.from_records([{"id": "1", "manager": "", "unit": " ", "note": ""}])
        assert roster.employee("1") == Employee(id="1")

    def test_units_named_only_by_employees_are_top_level_units(self) -> None:
        roster = Roster.from_records([{"id": "1", "unit": "ops"}])
        assert roster.units == (OrgUnit(id="ops"),)
        assert roster.parent_unit("ops") is None

    def test_a_declared_unit_may_sit_inside_a_unit_only_employees_name(self) -> None:
        roster = Roster.from_records([{"id": "1", "unit": "sales"}], [{"id": "east", "parent": "sales"}])
        assert roster.unit_chain("east") == ("east", "sales")
        assert roster.members("sales", recursive=True) == ("1",)

    def test_a_row_without_an_id(self) -> None:
        with pytest.raises(DataError, match="needs an id") as caught:
            Roster.from_records([{"id": "1"}, {"name": "无名"}])
        assert caught.value.row == 1

    def test_a_unit_row_with_an_unknown_column(self) -> None:
        with pytest.raises(DataError, match=r"unknown columns \['leader'\]"):
            Roster.from_records([], [{"id": "a", "leader": "1"}])

    def test_a_unit_head_must_be_in_the_roster(self) -> None:
        with pytest.raises(DataError, match="the head '9' of unit 'a' is not in the roster"):
            Roster.from_records([{"id": "1", "unit": "a"}], [{"id": "a", "head": "9"}])


class TestHeads:
    def test_a_unit_is_led_by_its_head_or_the_nearest_head_above(self) -> None:
        roster = Roster.from_records(
            [{"id": "1", "unit": "sales"}, {"id": "2", "unit": "east"}, {"id": "3", "unit": "rd"}],
            [{"id": "sales", "head": "1"}, {"id": "east", "parent": "sales"}, {"id": "rd"}],
        )
        assert roster.head_of("sales").id == "1"
        assert roster.head_of("east").id == "1"
        assert roster.head_of("rd") is None

    def test_a_unit_row_without_an_id(self) -> None:
        with pytest.raises(DataError, match="a unit row needs an id") as caught:
            Roster.from_records([], [{"id": "a"}, {"name": "b"}])
        assert caught.value.row == 1

    def test_sorted_and_independent_of_row_order(self) -> None:
        shuffled = Roster.from_records(random.Random(7).sample(EMPLOYEES, len(EMPLOYEES)), UNITS[::-1])
        assert shuffled == ROSTER
        assert [e.id for e in shuffled] == ["1", "2", "3", "4", "5", "6", "7"]
        assert [u.id for u in shuffled.units] == sorted(u["id"] for u in UNITS)

    def test_the_inputs_are_not_changed(self) -> None:
        rows = [{"employee_id": "1", "department": "a", "x": 1}]
        Roster.from_records(rows)
        assert rows == [{"employee_id": "1", "department": "a", "x": 1}]


class TestPeople:
    def test_lookup(self) -> None:
        assert "4" in ROSTER and "99" not in ROSTER
        assert len(ROSTER) == 7
        assert ROSTER.employee("2").name == "李强"

    def test_unknown_employee(self) -> None:
        with pytest.raises(DataError, match="not in the roster") as caught:
            ROSTER.employee("99")
        assert caught.value.employee_id == "99"

    def test_manager_of(self) -> None:
        manager = ROSTER.manager_of("4")
        assert manager is not None and manager.name == "张伟"
        assert ROSTER.manager_of("1") is None

    def test_management_chain_nearest_first(self) -> None:
        assert ROSTER.management_chain("4") == ("3", "2", "1")
        assert ROSTER.management_chain("1") == ()

    def test_direct_reports(self) -> None:
        assert ROSTER.direct_reports("3") == ("4", "5")
        assert ROSTER.direct_reports("1") == ("2", "7")
        assert ROSTER.direct_reports("5") == ()
        with pytest.raises(DataError):
            ROSTER.direct_reports("99")


class TestUnits:
    def test_unit_chain_innermost_first(self) -> None:
        assert ROSTER.unit_chain("east") == ("east", "sales", "company")
        assert ROSTER.unit_chain("company") == ("company",)

    def test_parent_and_subunits(self) -> None:
        assert ROSTER.parent_unit("west") == "sales"
        assert ROSTER.subunits("sales") == ("east", "west")
        assert ROSTER.subunits("company") == ("rd", "sales")
        assert ROSTER.subunits("east") == ()

    def test_members(self) -> None:
        assert ROSTER.members("east") == ("3", "4", "5")
        assert ROSTER.members("sales") == ("2",)

    def test_members_recursive(self) -> None:
        assert ROSTER.members("sales", recursive=True) == ("2", "3", "4", "5", "6")
        assert ROSTER.members("company", recursive=True) == ("1", "2", "3", "4", "5", "6", "7")

    def test_unknown_unit(self) -> None:
        with pytest.raises(DataError, match="unit 'nowhere' is not in the roster"):
            ROSTER.unit_chain("nowhere")
        with pytest.raises(DataError):
            ROSTER.members("nowhere")


class TestChecks:
    def test_unknown_manager(self) -> None:
        (problem,) = problems_of([{"id": "1", "manager": "9"}])
        assert problem.employee_id == "1" and problem.column == "manager"
        assert "'9'" in problem.message

    def test_unknown_unit_of_an_employee(self) -> None:
        """from_records adds units only employees name; a Roster built directly checks them."""
        with pytest.raises(DataError, match="unit 'x' is not in the roster") as caught:
            Roster((Employee(id="1", unit="x"),), (OrgUnit(id="a"),))
        assert caught.value.employee_id == "1" and caught.value.column == "unit"

    def test_unknown_parent_unit(self) -> None:
        (problem,) = problems_of([], [{"id": "a", "parent": "b"}])
        assert problem.column == "parent"
        assert "'a'" in problem.message and "'b'" in problem.message

    def test_duplicate_employee(self) -> None:
        (problem,) = problems_of([{"id": "1"}, {"id": "1", "name": "again"}])
        assert problem.employee_id == "1" and "twice" in problem.message

    def test_duplicate_unit(self) -> None:
        (problem,) = problems_of([], [{"id": "a"}, {"id": "a"}])
        assert "'a'" in problem.message and "twice" in problem.message

    def test_own_manager(self) -> None:
        (problem,) = problems_of([{"id": "1", "manager": "1"}])
        assert problem.employee_id == "1" and "own manager" in problem.message

    def test_management_cycle_named_from_the_smallest_id(self) -> None:
        (problem,) = problems_of(
            [{"id": "3", "manager": "1"}, {"id": "1", "manager": "2"}, {"id": "2", "manager": "3"}]
        )
        assert "management chain has a cycle: 1 → 2 → 3 → 1" in problem.message

    def test_a_cycle_is_reported_once_even_with_people_below_it(self) -> None:
        rows = [
            {"id": "a", "manager": "b"},
            {"id": "b", "manager": "a"},
            {"id": "c", "manager": "a"},
            {"id": "d", "manager": "c"},
        ]
        (problem,) = problems_of(rows)
        assert "a → b → a" in problem.message

    def test_unit_cycle(self) -> None:
        (problem,) = problems_of(
            [], [{"id": "x", "parent": "z"}, {"id": "y", "parent": "x"}, {"id": "z", "parent": "y"}]
        )
        assert "unit tree has a cycle: x → z → y → x" in problem.message

    def test_a_unit_inside_itself(self) -> None:
        """A unit whose parent is itself is a cycle too; building must refuse it, not hang later."""
        with time_limit(5), pytest.raises(DataError, match="'a'|a → a"):
            roster = Roster.from_records([{"id": "1", "unit": "a"}], [{"id": "a", "parent": "a"}])
            roster.unit_chain("a")  # reached only if the roster was built: this is where it hangs

    def test_every_problem_at_once(self) -> None:
        found = problems_of(
            [{"id": "1", "manager": "9"}, {"id": "2"}, {"id": "2"}, {"id": "3", "manager": "3"}],
            [{"id": "u", "parent": "v"}],
        )
        assert len(found) == 4
        assert {p.employee_id for p in found} == {"1", "2", "3", None}

    def test_the_combined_error_says_how_many(self) -> None:
        with pytest.raises(DataError, match="the roster has 2 problems"):
            Roster.from_records([{"id": "1", "manager": "9"}, {"id": "2", "manager": "8"}])


class TestRead:
    def test_csv_with_a_units_file(self, tmp_path: Path) -> None:
        people = tmp_path / "people.csv"
        people.write_text(
            "employee_id,name,manager,department,level\n"
            "1001,王芳,,sales,M1\n"
            "1002,李强,1001,east,P5\n"
            "1003,张伟,1002,east,\n",
            encoding="utf-8",
        )
        units = tmp_path / "units.csv"
        units.write_text("id,name,parent\nsales,销售部,\neast,华东,sales\n", encoding="utf-8")
        roster = Roster.read(people, units)
        assert roster.management_chain("1003") == ("1002", "1001")
        assert roster.unit_chain("east") == ("east", "sales")
        assert roster.members("sales", recursive=True) == ("1001", "1002", "1003")
        assert roster.employee("1003").level is None
        assert roster.unit("east").name == "华东"

    def test_json_employees_only(self, tmp_path: Path) -> None:
        people = tmp_path / "people.json"
        people.write_text('[{"id": "1", "unit": "a"}, {"id": "2", "manager": "1", "unit": "a"}]', encoding="utf-8")
        roster = Roster.read(people)
        assert roster.members("a") == ("1", "2")

    def test_csv_problems_are_data_errors(self, tmp_path: Path) -> None:
        people = tmp_path / "people.csv"
        people.write_text("id,manager\n1,2\n", encoding="utf-8")
        with pytest.raises(DataError, match="manager '2' is not in the roster"):
            Roster.read(people)


@st.composite
def org_trees(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A random forest of units and of managers (each parent drawn from the earlier ones), shuffled."""
    unit_count = draw(st.integers(1, 8))
    units = []
    for i in range(unit_count):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        units.append({"id": f"u{i}", "parent": None if parent is None else f"u{parent}"})
    people = []
    for i in range(draw(st.integers(0, 15))):
        manager = draw(st.none() | st.integers(0, i - 1)) if i else None
        people.append(
            {
                "id": f"p{i:02d}",
                "manager": None if manager is None else f"p{manager:02d}",
                "unit": f"u{draw(st.integers(0, unit_count - 1))}",
            }
        )
    return draw(st.permutations(people)), draw(st.permutations(units))


class TestProperties:
    @settings(max_examples=100)
    @given(org_trees())
    def test_chains_follow_the_parent_links_to_a_root(
        self, tree: tuple[list[dict[str, Any]], list[dict[str, Any]]]
    ) -> None:
        people, units = tree
        roster = Roster.from_records(people, units)
        parent = {u["id"]: u["parent"] for u in units}
        for unit in parent:
            chain = roster.unit_chain(unit)
            assert chain[0] == unit and parent[chain[-1]] is None
            assert all(parent[inner] == outer for inner, outer in itertools.pairwise(chain))
        manager = {p["id"]: p["manager"] for p in people}
        for person in manager:
            chain = roster.management_chain(person)
            assert all(manager[a] == b for a, b in zip((person, *chain), chain))
            assert not chain or manager[chain[-1]] is None

    @settings(max_examples=100)
    @given(org_trees())
    def test_recursive_members_are_everyone_whose_unit_is_inside(
        self, tree: tuple[list[dict[str, Any]], list[dict[str, Any]]]
    ) -> None:
        people, units = tree
        roster = Roster.from_records(people, units)
        for unit in (u["id"] for u in units):
            inside = sorted(p["id"] for p in people if unit in roster.unit_chain(p["unit"]))
            assert roster.members(unit, recursive=True) == tuple(inside)
            assert roster.members(unit) == tuple(sorted(p["id"] for p in people if p["unit"] == unit))

    @settings(max_examples=100)
    @given(org_trees(), st.randoms(use_true_random=False))
    def test_row_order_does_not_matter(
        self, tree: tuple[list[dict[str, Any]], list[dict[str, Any]]], rnd: random.Random
    ) -> None:
        people, units = tree
        assert Roster.from_records(
            rnd.sample(people, len(people)), rnd.sample(units, len(units))
        ) == Roster.from_records(people, units)

    @settings(max_examples=100)
    @given(org_trees(), st.data())
    def test_a_manager_link_back_down_the_chain_is_a_named_cycle(
        self, tree: tuple[list[dict[str, Any]], list[dict[str, Any]]], data: st.DataObject
    ) -> None:
        people, units = tree
        roster = Roster.from_records(people, units)
        deep = [p["id"] for p in people if roster.management_chain(p["id"])]
        assume(deep)
        person = data.draw(st.sampled_from(sorted(deep)))
        top = roster.management_chain(person)[-1]
        looped = [dict(p, manager=person) if p["id"] == top else p for p in people]
        (problem,) = problems_of(looped, units)
        assert "management chain has a cycle" in problem.message
        assert all(f"{member}" in problem.message for member in (person, top))
