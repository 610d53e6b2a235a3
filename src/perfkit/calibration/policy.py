"""Calibration policies, checked against a grade scale, and their quotas as head counts.

A policy is declared in a scheme's ``calibration:`` section (or on its own, see
:func:`load_policy`) and checked against the scheme's grades here:

>>> from perfkit.scheme import Calibration
>>> from perfkit.calibration.scale import Grade
>>> scale = GradeScale((Grade("S", Decimal(95)), Grade("A", Decimal(85)), Grade("B", Decimal(70)), Grade("C", None)))
>>> policy = compile_policy(Calibration(distribution={"S+A": {"max": "30%"}, "C": {"min": "10%"}}), scale)
>>> bounds = policy.bounds(7)
>>> bounds["S+A"], bounds["C"]
((0, 2), (1, 7))

Quota keys are a grade (``S``) or grades joined by ``+`` (``S+A``). A value is a *target*
share (``10%``) or a *range* (``{min: 5%, max: 15%}``). For a pool of ``n`` people:

- targets become head counts together, by apportionment, so they never add up to more
  than ``n`` (``10%`` of 7 people and ``20%`` of 7 are 1 and 1, and the remaining 70% take 5);
- a range ``{min, max}`` allows from ``ceil(min × n)`` to ``floor(max × n)`` people.

Keys must be nested or disjoint (``S+A`` with ``S`` is fine, ``S+A`` with ``A+B`` is not),
which is what lets the allocation be solved as a flow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import attrs

from perfkit.apportion import apportion
from perfkit.calibration.scale import GradeScale
from perfkit.errors import SchemeError, one_error
from perfkit.scheme import Calibration, QuotaRange, format_weight

__all__ = ["Policy", "Quota", "compile_policy", "load_policy"]

Mode = Literal["absolute", "relative", "hybrid"]


@attrs.frozen(kw_only=True)
class Quota:
    """One quota: the grades it counts and either a target share or a range of shares."""

    key: str
    """As written: ``S`` or ``S+A``."""
    grades: tuple[str, ...]
    """The grades it counts, best first."""
    target: Decimal | None = None
    min: Decimal | None = None
    max: Decimal | None = None

    def describe(self) -> str:
        """``S+A at most 30%``, ``S 10%``."""
        if self.target is not None:
            return f"{self.key} {format_weight(self.target)}"
        if self.min is not None and self.max is not None:
            return f"{self.key} {format_weight(self.min)}–{format_weight(self.max)}"
        if self.min is not None:
            return f"{self.key} at least {format_weight(self.min)}"
        assert self.max is not None
        return f"{self.key} at most {format_weight(self.max)}"


@attrs.frozen(kw_only=True)
class Policy:
    """A checked calibration policy bound to a grade scale; see :class:`perfkit.scheme.Calibration`."""

    scale: GradeScale
    mode: Mode
    group_by: tuple[str, ...]
    quotas: tuple[Quota, ...]
    apportionment: Literal["largest_remainder", "sainte_lague", "dhondt"]
    min_pool_size: int | None
    nested: str | None
    ties: Literal["overflow", "underfill", "escalate"]
    tie_keys: tuple[str, ...]
    enforcement: Literal["warn", "enforce"]
    boundary_margin: Decimal
    declaration: Calibration = attrs.field(eq=False, repr=False)
    _bounds: dict[int, dict[str, tuple[int, int]]] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    def quota(self, key: str) -> Quota:
        for quota in self.quotas:
            if quota.key == key:
                return quota
        raise KeyError(key)

    def bounds(self, size: int) -> dict[str, tuple[int, int]]:
        """Each quota as (fewest, most) people for a pool of ``size`` people."""
        cached = self._bounds.get(size)
        if cached is None:
            cached = self._bounds[size] = self._compute_bounds(size)
        return dict(cached)

    def _compute_bounds(self, size: int) -> dict[str, tuple[int, int]]:
        result: dict[str, tuple[int, int]] = {}
        targets = [q for q in self.quotas if q.target is not None]

        def share_out(count: int, parts: list[Quota], whole: Decimal) -> None:
            # Targets inside one target (or the whole pool) are apportioned together, with
            # what they leave over as one more share; then each is shared among its own.
            shares: dict[str, Decimal] = {q.key: q.target for q in parts if q.target is not None}
            rest = whole - sum(shares.values(), Decimal(0))
            if rest > 0:
                shares[_REST] = rest
            counts = apportion(count, shares, method=self.apportionment) if count and any(shares.values()) else {}
            for quota in parts:
                heads = counts.get(quota.key, 0)
                result[quota.key] = (heads, heads)
                inner = [t for t in targets if _parent(t, targets) is quota]
                if inner and quota.target is not None:
                    share_out(heads, inner, quota.target)

        share_out(size, [t for t in targets if _parent(t, targets) is None], Decimal(1))
        for q in self.quotas:
            if q.target is None:
                low = 0 if q.min is None else math.ceil(q.min * size)
                high = size if q.max is None else math.floor(q.max * size)
                result[q.key] = (low, high)
        return result

    def relaxed_bounds(self, size: int) -> dict[str, tuple[int, int]]:
        """Bounds for a sub-pool (``nested``): each grade within a head of its share.

        Only single-grade quotas apply to sub-pools; a target ``t`` allows ``floor(t × size)``
        to ``ceil(t × size)`` people, a range ``floor(min × size)`` to ``ceil(max × size)``.
        """
        result: dict[str, tuple[int, int]] = {}
        for q in self.quotas:
            if len(q.grades) != 1:
                continue
            low_share = q.target if q.target is not None else q.min
            high_share = q.target if q.target is not None else q.max
            low = 0 if low_share is None else math.floor(low_share * size)
            high = size if high_share is None else math.ceil(high_share * size)
            result[q.key] = (low, high)
        return result


_REST = "\x00rest"


def _parent(quota: Quota, among: list[Quota]) -> Quota | None:
    """The smallest quota in ``among`` that strictly contains ``quota`` (keys are laminar)."""
    mine = set(quota.grades)
    containing = [q for q in among if mine < set(q.grades)]
    return min(containing, key=lambda q: len(q.grades)) if containing else None


def compile_policy(declaration: Calibration, scale: GradeScale, *, path: str = "calibration") -> Policy:
    """Check a policy against a grade scale; :class:`SchemeError` lists every problem."""
    problems: list[SchemeError] = []
    quotas = []
    for key, value in (declaration.distribution or {}).items():
        grades = _grades(key, scale, f"{path}.distribution.{key}", problems)
        if grades is None:
            continue
        if isinstance(value, QuotaRange):
            quotas.append(Quota(key=key, grades=grades, min=value.min, max=value.max))
        else:
            quotas.append(Quota(key=key, grades=grades, target=value))
    _check_laminar(quotas, f"{path}.distribution", problems)
    _check_sums(quotas, scale, f"{path}.distribution", problems)
    if declaration.mode == "relative":
        targeted = {g for q in quotas if q.target is not None and len(q.grades) == 1 for g in q.grades}
        missing = [g for g in scale.names if g not in targeted]
        if missing:
            problems.append(
                SchemeError(
                    f"relative calibration ranks people into every grade, so every grade needs a target share; "
                    f"missing: {', '.join(missing)} (use mode: hybrid for ranges)",
                    path=f"{path}.distribution",
                )
            )
    if declaration.boundary_margin < 0:
        problems.append(SchemeError("the boundary margin cannot be negative", path=f"{path}.boundary_margin"))
    if problems:
        raise one_error(problems, f"the calibration policy has {len(problems)} problems", SchemeError)
    group_by = declaration.group_by
    columns = () if group_by is None else (group_by,) if isinstance(group_by, str) else tuple(group_by)
    return Policy(
        scale=scale,
        mode=declaration.mode,
        group_by=columns,
        quotas=tuple(sorted(quotas, key=lambda q: (-len(q.grades), scale.rank(q.grades[0]), q.key))),
        apportionment=declaration.apportionment,
        min_pool_size=declaration.min_pool_size,
        nested=declaration.nested,
        ties=declaration.ties,
        tie_keys=declaration.tie_keys,
        enforcement=declaration.enforcement,
        boundary_margin=declaration.boundary_margin,
        declaration=declaration,
    )


def load_policy(source: str | Path | Mapping[str, Any], scale: GradeScale) -> Policy:
    """A policy from a YAML/JSON file or a mapping (the body of a ``calibration:`` section).

    Problems name the field (``calibration.distribution.S``) and, for a file, its line.
    """
    from pydantic import ValidationError

    from perfkit._files import Positions, line_of, read_file, read_text
    from perfkit.scheme import _translate

    where: str | None = None
    positions: Positions = {}
    if isinstance(source, Mapping):
        data: Any = dict(source)
    else:
        where = str(source)
        text = read_file(source, lambda reason: SchemeError(f"cannot read the policy: {reason}", source=where))
        data, positions = read_text(text, source=where)
        if isinstance(data, Mapping) and "calibration" in data:
            data = data["calibration"]
        else:  # a bare policy: its fields sit at the top of the file
            positions = {("calibration", *loc): line for loc, line in positions.items()}

    def located(problem: SchemeError) -> SchemeError:
        return problem if where is None else problem.located(source=where, line=line_of(problem.path, positions))

    try:
        declaration = Calibration.model_validate(data)
    except ValidationError as exc:
        problems = tuple(located(_translate({**e, "loc": ("calibration", *e["loc"])})) for e in exc.errors())
        raise one_error(problems, f"the calibration policy has {len(problems)} problems", SchemeError) from None
    try:
        return compile_policy(declaration, scale)
    except SchemeError as exc:
        if where is None:
            raise
        problems = tuple(located(p) for p in exc.problems if isinstance(p, SchemeError))
        raise one_error(problems, f"the calibration policy has {len(problems)} problems", SchemeError) from None


def _grades(key: str, scale: GradeScale, path: str, problems: list[SchemeError]) -> tuple[str, ...] | None:
    if key in scale:
        return (key,)
    parts = [part.strip() for part in key.split("+")]
    unknown = [part for part in parts if part not in scale]
    if unknown or len(parts) < 2:
        names = ", ".join(scale.names)
        problems.append(SchemeError(f"unknown grade {unknown[0] if unknown else key!r}; the grades are {names}", path=path))
        return None
    if len(set(parts)) != len(parts):
        problems.append(SchemeError(f"{key!r} names a grade twice", path=path))
        return None
    return tuple(sorted(parts, key=scale.rank))


def _check_laminar(quotas: list[Quota], path: str, problems: list[SchemeError]) -> None:
    seen: dict[frozenset[str], str] = {}
    for quota in quotas:
        mine = frozenset(quota.grades)
        if mine in seen:
            problems.append(SchemeError(f"{quota.key!r} and {seen[mine]!r} count the same grades", path=path))
            continue
        for other, key in seen.items():
            if mine & other and not (mine <= other or other <= mine):
                problems.append(
                    SchemeError(
                        f"{key!r} and {quota.key!r} overlap without one containing the other; "
                        "quota groups must be nested (S and S+A) or disjoint (S+A and C+D)",
                        path=path,
                    )
                )
        seen[mine] = quota.key


def _check_sums(quotas: list[Quota], scale: GradeScale, path: str, problems: list[SchemeError]) -> None:
    targets = [q for q in quotas if q.target is not None]
    # Targets nest like the keys: those at the top share the pool, those inside a target share it.
    groups: dict[str | None, list[Quota]] = {}
    for quota in targets:
        parent = _parent(quota, targets)
        groups.setdefault(None if parent is None else parent.key, []).append(quota)
    for parent_key, inner in groups.items():
        whole = Decimal(1) if parent_key is None else next(q.target for q in targets if q.key == parent_key)
        assert whole is not None
        grades = set(scale.names) if parent_key is None else set(next(q.grades for q in targets if q.key == parent_key))
        total = sum((q.target for q in inner if q.target is not None), Decimal(0))
        where = "100%" if parent_key is None else f"{parent_key}'s {format_weight(whole)}"
        if total > whole:
            what = "the target shares" if parent_key is None else f"the targets inside {parent_key}"
            problems.append(SchemeError(f"{what} add up to {format_weight(total)}, more than {where}", path=path))
            return
        elif {g for q in inner for g in q.grades} == grades and total != whole:
            what = "the target shares cover every grade" if parent_key is None else f"the targets cover all of {parent_key}"
            problems.append(SchemeError(f"{what} but add up to {format_weight(total)}, not {where}", path=path))
            return
    # Outermost quotas (not inside another) are disjoint: their minimums must fit in 100%,
    # and when they cover every grade with maximums, those must reach 100%.
    outer = [q for q in quotas if not any(set(q.grades) < set(o.grades) for o in quotas)]
    lows = sum((q.target if q.target is not None else (q.min or Decimal(0)) for q in outer), Decimal(0))
    if lows > 1:
        problems.append(SchemeError(f"the quotas need at least {format_weight(lows)} of a pool, more than 100%", path=path))
    if {g for q in outer for g in q.grades} == set(scale.names) and all(
        q.target is not None or q.max is not None for q in outer
    ):
        highs = sum((q.target if q.target is not None else q.max or Decimal(0) for q in outer), Decimal(0))
        if highs < 1:
            problems.append(
                SchemeError(f"the quotas allow at most {format_weight(highs)} of a pool, less than 100%", path=path)
            )
