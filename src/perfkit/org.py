"""The org roster: who reports to whom, and which unit sits inside which.

Calibration merges a pool that is too small into its parent unit's pool; goal check-ins
escalate to the owner's manager; metrics roll a team up to its department. All of them read
the same :class:`Roster`::

    roster = Roster.from_records(
        employees=[{"id": "1001", "manager": "2001", "unit": "sales-east", "role": "sales"}, ...],
        units=[{"id": "sales-east", "parent": "sales"}, {"id": "sales"}],
    )

A roster is checked when it is built: unknown managers and units, duplicate ids, and cycles
(someone who is their own manager's manager, a unit inside itself) are reported together,
each naming the ids involved.

>>> roster = Roster.from_records(
...     employees=[
...         {"id": "1", "name": "王芳", "unit": "east"},
...         {"id": "2", "manager": "1", "unit": "east", "role": "sales"},
...     ],
...     units=[{"id": "east", "name": "华东", "parent": "sales"}, {"id": "sales"}],
... )
>>> roster.manager_of("2").name
'王芳'
>>> roster.unit_chain("east")
('east', 'sales')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from perfkit.errors import DataError, one_error

__all__ = ["Employee", "OrgUnit", "Roster"]

_EMPLOYEE_FIELDS = ("id", "name", "manager", "unit", "role", "level")
_UNIT_FIELDS = ("id", "name", "parent", "head")


@attrs.frozen(kw_only=True)
class Employee:
    """One person: id, and optionally name, manager (an employee id), unit, role and level.

    ``unit`` is the org unit (team or department) the person belongs to; ``attributes``
    holds any other columns of the roster, as (name, value) pairs.
    """

    id: str
    name: str | None = None
    manager: str | None = None
    unit: str | None = None
    role: str | None = None
    level: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()

    def attribute(self, name: str) -> str | None:
        """A roster column by name: the named fields first, then ``attributes``."""
        if name in _EMPLOYEE_FIELDS:
            value: str | None = getattr(self, name)
            return value
        return dict(self.attributes).get(name)


@attrs.frozen(kw_only=True)
class OrgUnit:
    """An org unit (company, department, team), the unit it sits inside, and its head
    (the employee id of the person who leads it, when known)."""

    id: str
    name: str | None = None
    parent: str | None = None
    head: str | None = None


@attrs.frozen
class Roster:
    """Employees and org units, checked for consistency; immutable.

    Build it with :meth:`from_records` or :meth:`read`; the constructor checks as well.
    """

    employees: tuple[Employee, ...]
    units: tuple[OrgUnit, ...] = ()
    _people: dict[str, Employee] = attrs.field(init=False, eq=False, repr=False)
    _units: dict[str, OrgUnit] = attrs.field(init=False, eq=False, repr=False)
    _reports: dict[str, tuple[str, ...]] = attrs.field(init=False, eq=False, repr=False)
    _members: dict[str, tuple[str, ...]] = attrs.field(init=False, eq=False, repr=False)
    _children: dict[str, tuple[str, ...]] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        employees = tuple(sorted(self.employees, key=lambda e: e.id))
        units = tuple(sorted(self.units, key=lambda u: u.id))
        object.__setattr__(self, "employees", employees)
        object.__setattr__(self, "units", units)
        problems = _check(employees, units)
        if problems:
            raise one_error(problems, f"the roster has {len(problems)} problems", DataError)
        people = {e.id: e for e in employees}
        reports: dict[str, list[str]] = {}
        members: dict[str, list[str]] = {}
        for person in employees:
            if person.manager is not None:
                reports.setdefault(person.manager, []).append(person.id)
            if person.unit is not None:
                members.setdefault(person.unit, []).append(person.id)
        children: dict[str, list[str]] = {}
        for unit in units:
            if unit.parent is not None:
                children.setdefault(unit.parent, []).append(unit.id)
        object.__setattr__(self, "_people", people)
        object.__setattr__(self, "_units", {u.id: u for u in units})
        object.__setattr__(self, "_reports", {k: tuple(v) for k, v in reports.items()})
        object.__setattr__(self, "_members", {k: tuple(v) for k, v in members.items()})
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})

    # -- building -------------------------------------------------------------------------

    @classmethod
    def from_records(
        cls, employees: Iterable[Mapping[str, Any]], units: Iterable[Mapping[str, Any]] = ()
    ) -> Roster:
        """Build a roster from rows (CSV/JSON records, DataFrame rows as mappings).

        Employee rows need ``id`` (or ``employee_id``); ``name``, ``manager``, ``unit`` (or
        ``department``), ``role`` and ``level`` are optional, and any other column is kept as
        an attribute. Unit rows need ``id``; ``name``, ``parent`` and ``head`` (an employee
        id) are optional. Units that
        employees name but no unit row declares are added as top-level units.
        """
        people = [_employee(row, i) for i, row in enumerate(employees)]
        declared = [_unit(row, i) for i, row in enumerate(units)]
        known = {u.id for u in declared}
        implied = sorted({p.unit for p in people if p.unit is not None and p.unit not in known})
        return cls(tuple(people), tuple(declared) + tuple(OrgUnit(id=u) for u in implied))

    @classmethod
    def read(cls, path: str | Path, units: str | Path | None = None) -> Roster:
        """Read employees (and optionally units) from CSV, JSON or JSONL files."""
        from perfkit.io.rows import read_rows

        unit_rows = read_rows(units) if units is not None else []
        return cls.from_records(read_rows(path), unit_rows)

    # -- people ---------------------------------------------------------------------------

    def __contains__(self, employee_id: object) -> bool:
        return employee_id in self._people

    def __iter__(self) -> Iterator[Employee]:
        return iter(self.employees)

    def __len__(self) -> int:
        return len(self.employees)

    def employee(self, employee_id: str) -> Employee:
        """The employee with this id; :class:`DataError` if the roster has no such person."""
        try:
            return self._people[employee_id]
        except KeyError:
            raise DataError("not in the roster", employee_id=employee_id) from None

    def manager_of(self, employee_id: str) -> Employee | None:
        """The person's manager, or None at the top."""
        manager = self.employee(employee_id).manager
        return None if manager is None else self._people[manager]

    def management_chain(self, employee_id: str) -> tuple[str, ...]:
        """The person's managers, nearest first, up to the top."""
        chain = []
        manager = self.employee(employee_id).manager
        while manager is not None:
            chain.append(manager)
            manager = self._people[manager].manager
        return tuple(chain)

    def direct_reports(self, employee_id: str) -> tuple[str, ...]:
        self.employee(employee_id)
        return self._reports.get(employee_id, ())

    # -- units ----------------------------------------------------------------------------

    def unit(self, unit_id: str) -> OrgUnit:
        """The unit with this id; :class:`DataError` if the roster has none."""
        try:
            return self._units[unit_id]
        except KeyError:
            raise DataError(f"unit {unit_id!r} is not in the roster", column="unit", value=unit_id) from None

    def parent_unit(self, unit_id: str) -> str | None:
        return self.unit(unit_id).parent

    def unit_chain(self, unit_id: str) -> tuple[str, ...]:
        """The unit and the units it sits inside, innermost first."""
        chain = [unit_id]
        parent = self.unit(unit_id).parent
        while parent is not None:
            chain.append(parent)
            parent = self._units[parent].parent
        return tuple(chain)

    def head_of(self, unit_id: str) -> Employee | None:
        """The person who leads the unit: its ``head``, else the head of the nearest unit
        above it that has one; None when no unit up the chain names a head."""
        for unit in self.unit_chain(unit_id):
            head = self._units[unit].head
            if head is not None:
                return self._people[head]
        return None

    def subunits(self, unit_id: str) -> tuple[str, ...]:
        """The units directly inside this one."""
        self.unit(unit_id)
        return self._children.get(unit_id, ())

    def members(self, unit_id: str, *, recursive: bool = False) -> tuple[str, ...]:
        """Employee ids in the unit (and, with ``recursive``, in every unit inside it), sorted."""
        self.unit(unit_id)
        if not recursive:
            return self._members.get(unit_id, ())
        found: list[str] = []
        stack = [unit_id]
        while stack:
            current = stack.pop()
            found.extend(self._members.get(current, ()))
            stack.extend(self._children.get(current, ()))
        return tuple(sorted(found))


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def _employee(row: Mapping[str, Any], index: int) -> Employee:
    data = dict(row)
    ident = _text(data.pop("id", None) if "id" in data else data.pop("employee_id", None))
    if ident is None:
        raise DataError("an employee row needs an id (column 'id' or 'employee_id')", row=index, column="id")
    if "unit" not in data and "department" in data:
        data["unit"] = data.pop("department")
    fields = {name: _text(data.pop(name, None)) for name in _EMPLOYEE_FIELDS[1:]}
    extra = tuple(sorted((str(k), str(v)) for k, v in data.items() if _text(v) is not None))
    return Employee(id=ident, attributes=extra, **fields)


def _unit(row: Mapping[str, Any], index: int) -> OrgUnit:
    unknown = sorted(set(row) - set(_UNIT_FIELDS))
    if unknown:
        raise DataError(f"a unit row has unknown columns {unknown}; expected id, name, parent, head", row=index)
    ident = _text(row.get("id"))
    if ident is None:
        raise DataError("a unit row needs an id", row=index, column="id")
    return OrgUnit(id=ident, name=_text(row.get("name")), parent=_text(row.get("parent")), head=_text(row.get("head")))


def _check(employees: tuple[Employee, ...], units: tuple[OrgUnit, ...]) -> list[DataError]:
    problems: list[DataError] = []
    people: dict[str, Employee] = {}
    for person in employees:
        if person.id in people:
            problems.append(DataError("appears twice in the roster", employee_id=person.id, column="id"))
        people[person.id] = person
    unit_ids: dict[str, OrgUnit] = {}
    for unit in units:
        if unit.id in unit_ids:
            problems.append(DataError(f"unit {unit.id!r} appears twice in the roster", column="unit"))
        unit_ids[unit.id] = unit
    for person in employees:
        if person.manager is not None and person.manager not in people:
            problems.append(
                DataError(f"manager {person.manager!r} is not in the roster", employee_id=person.id, column="manager")
            )
        if person.manager == person.id:
            problems.append(DataError("is their own manager", employee_id=person.id, column="manager"))
        if person.unit is not None and person.unit not in unit_ids:
            problems.append(DataError(f"unit {person.unit!r} is not in the roster", employee_id=person.id, column="unit"))
    for unit in units:
        if unit.parent is not None and unit.parent not in unit_ids:
            problems.append(DataError(f"unit {unit.id!r} has an unknown parent {unit.parent!r}", column="parent"))
        if unit.head is not None and unit.head not in people:
            problems.append(DataError(f"the head {unit.head!r} of unit {unit.id!r} is not in the roster", column="head"))
    problems.extend(_cycles({p.id: p.manager for p in employees if p.manager in people}, "manager"))
    problems.extend(_cycles({u.id: u.parent for u in units if u.parent in unit_ids}, "unit"))
    return problems


def _cycles(parent: Mapping[str, str | None], kind: str) -> list[DataError]:
    """Each cycle in a parent map once, named by its members in order from the smallest id."""
    found: list[DataError] = []
    done: set[str] = set()
    for start in sorted(parent):
        path: list[str] = []
        seen: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done and node not in seen:
            seen[node] = len(path)
            path.append(node)
            node = parent.get(node)
        if node is not None and node in seen:
            cycle = path[seen[node] :]
            if len(cycle) == 1 and kind == "unit":
                found.append(DataError(f"unit {cycle[0]!r} is its own parent", column="parent"))
            elif len(cycle) > 1:
                first = cycle.index(min(cycle))
                ordered = cycle[first:] + cycle[:first]
                loop = " → ".join([*ordered, ordered[0]])
                what = "management chain" if kind == "manager" else "unit tree"
                found.append(DataError(f"the {what} has a cycle: {loop}", column="manager" if kind == "manager" else "parent"))
        done.update(path)
    return found
