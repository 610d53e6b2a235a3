"""Cascade: split a parent goal's numeric target across its children, exactly.

"50M revenue" becomes one target per region at a stated unit (10k yuan), and the region
targets add up to exactly 50M: the split is a largest-remainder apportionment
(:func:`perfkit.apportion.split_amount`), so every part is a whole number of units and
within one unit of its exact share.

Shares (``shares=``):

========== ==============================================================================
equal      every child the same (the default)
weights    the weights on the ``contributes`` edges (``contributes_to: [{goal: p, weight: 40%}]``)
actuals    last period's actuals (``actuals={child: amount}``): non-negative, not all 0
a mapping  ``{child: share}`` (``"40%"``, ``0.4``, ``Decimal``): the shares sum to exactly 1
========== ==============================================================================

**Ties** do not depend on the order of the goal file: the children are ordered by id
before the split, and when two remainders are equal the unit goes to the earlier id.

**Applying** a cascade (:meth:`Cascade.apply`) either sets each child's ``target`` (for
new goals), or, with ``effective=``, records a *proposed* revision on each child whose
target changes, so the owners' managers confirm the numbers with
:meth:`GoalGraph.approve <perfkit.goals.GoalGraph.approve>` instead of retyping them.

>>> from perfkit.goals import GoalGraph
>>> graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
...     {"id": "revenue", "title": "Revenue", "owner": "org", "period": "2026", "rollup": "sum",
...      "target": 50_000_000},
...     *({"id": r, "title": r, "kind": "key_result", "owner": f"team:{r}", "period": "2026",
...        "target": 1, "contributes_to": ["revenue"]} for r in ("east", "north", "south"))]})
>>> split = cascade(graph, "revenue", unit=10_000)
>>> {child: int(target) for child, target in split.targets.items()}
{'east': 16670000, 'north': 16670000, 'south': 16660000}
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal

import attrs
from pydantic import ValidationError

from perfkit._text import display_width
from perfkit.apportion import Method, split_amount
from perfkit.errors import GoalGraphError, one_error
from perfkit.goals.graph import GoalGraph
from perfkit.goals.model import Goal, Revision
from perfkit.numbers import CONTEXT, exact_sum, percent, plain_text, to_decimal
from perfkit.scheme import format_weight

__all__ = ["Cascade", "CascadeTree", "ShareMode", "cascade", "cascade_tree"]

ShareMode = Literal["equal", "weights", "actuals"]
Basis = Literal["equal", "weights", "actuals", "shares"]
"""Where a cascade's shares came from (``shares`` for an explicit mapping)."""
When = datetime.date | datetime.datetime | str
_BASIS_WORDS = {"equal": "equally", "weights": "by weights", "actuals": "by actuals", "shares": "by shares"}


def _frozen_map(value: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class Cascade:
    """A parent's target split across its children: see :func:`cascade`.

    ``shares`` holds each child's share as used (the edge weights, last period's actuals,
    1 each for ``equal``, or the explicit shares); only their proportions matter.
    ``targets`` holds each child's new target, a multiple of ``unit``; they sum to
    ``amount`` exactly. Both are ordered by child id.
    """

    parent: str
    amount: Decimal
    unit: Decimal
    method: Method
    basis: Basis
    shares: Mapping[str, Decimal] = attrs.field(converter=_frozen_map)
    targets: Mapping[str, Decimal] = attrs.field(converter=_frozen_map)

    @property
    def children(self) -> tuple[str, ...]:
        """The children the target was split across, by id."""
        return tuple(self.targets)

    def fractions(self) -> dict[str, Fraction]:
        """Each child's exact share of the amount before rounding to units (they sum to 1)."""
        whole = sum((Fraction(s) for s in self.shares.values()), Fraction(0))
        return {child: Fraction(share) / whole for child, share in self.shares.items()}

    def to_dict(self) -> dict[str, Any]:
        """Plain data (numbers as text), for JSON."""
        return {
            "parent": self.parent,
            "amount": plain_text(self.amount),
            "unit": plain_text(self.unit),
            "method": self.method,
            "basis": self.basis,
            "shares": {child: plain_text(share) for child, share in self.shares.items()},
            "targets": {child: plain_text(target) for child, target in self.targets.items()},
        }

    def to_text(self) -> str:
        """A readable table: each child's share and target, and the total."""
        head = (
            f"{self.parent}: {_amount(self.amount)} split {_BASIS_WORDS[self.basis]} "
            f"at a unit of {_amount(self.unit)} ({self.method.replace('_', ' ')})"
        )
        return "\n".join([head, *_table(self)])

    def apply(
        self,
        graph: GoalGraph,
        *,
        effective: When | None = None,
        reason: str | None = None,
        proposed_by: str | None = None,
        replace: bool = False,
    ) -> GoalGraph:
        """A new graph with the children's targets from this cascade.

        Without ``effective``, each child's declared ``target`` is set; a child that already
        has a different target is an error unless ``replace=True``. With ``effective`` (and
        the ``reason`` and ``proposed_by`` every revision carries), each child whose target
        in force on that date differs gets a *proposed* revision, for its manager to approve
        (:meth:`GoalGraph.approve <perfkit.goals.GoalGraph.approve>`) or reject.
        """
        return _apply(graph, self.targets, effective, reason, proposed_by, replace)


@attrs.frozen(kw_only=True)
class CascadeTree:
    """Cascades through several levels, top first: see :func:`cascade_tree`."""

    root: str
    cascades: tuple[Cascade, ...]

    @property
    def targets(self) -> Mapping[str, Decimal]:
        """Every cascaded goal's new target, level by level."""
        return MappingProxyType({c: t for step in self.cascades for c, t in step.targets.items()})

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root, "cascades": [step.to_dict() for step in self.cascades]}

    def to_text(self) -> str:
        return "\n\n".join(step.to_text() for step in self.cascades)

    def apply(
        self,
        graph: GoalGraph,
        *,
        effective: When | None = None,
        reason: str | None = None,
        proposed_by: str | None = None,
        replace: bool = False,
    ) -> GoalGraph:
        """Every level's targets at once, as :meth:`Cascade.apply` does for one."""
        return _apply(graph, self.targets, effective, reason, proposed_by, replace)


def cascade(
    graph: GoalGraph,
    parent: str,
    *,
    shares: ShareMode | Mapping[str, object] | None = None,
    actuals: Mapping[str, object] | None = None,
    unit: object = 1,
    children: Iterable[str] | None = None,
    amount: object = None,
    as_of: When | None = None,
    method: Method = "largest_remainder",
) -> Cascade:
    """Split ``parent``'s target across its children in multiples of ``unit``, summing exactly.

    ``shares`` is ``"equal"`` (the default), ``"weights"`` (the contributes-edge weights),
    ``"actuals"`` (with ``actuals={child: last period's amount}``; giving ``actuals`` alone
    is enough) or an explicit ``{child: share}`` mapping that sums to exactly 1.

    The amount split is ``amount`` when given, else the parent's target in force on
    ``as_of`` (approved revisions included), else its declared target; it must be a whole
    number of units. ``children`` defaults to the parent's contributing children that are
    not archived. Raises :class:`~perfkit.errors.GoalGraphError` naming the goals.
    """
    goal = graph[parent]
    step = _unit(unit, parent)
    kids = _children(graph, parent, children)
    basis, raw = _shares(graph, parent, kids, shares, actuals)
    total = _amount_of(graph, goal, amount, as_of)
    _check_whole(total, step, parent)
    try:
        targets = split_amount(total, raw, unit=step, method=method)
    except ValueError as exc:
        raise GoalGraphError(f"the target of {parent!r} cannot be split: {exc}", goals=(parent, *kids)) from None
    return Cascade(parent=parent, amount=total, unit=step, method=method, basis=basis, shares=raw, targets=targets)


def cascade_tree(
    graph: GoalGraph,
    root: str,
    *,
    unit: object | Sequence[object] = 1,
    shares: ShareMode = "equal",
    actuals: Mapping[str, object] | None = None,
    amount: object = None,
    as_of: When | None = None,
    method: Method = "largest_remainder",
) -> CascadeTree:
    """Cascade ``root``'s target down several levels: to its children, their children, ...

    ``unit`` is one unit for every level, or a sequence with the unit of each level, top
    first (``["10000", "1000"]``: regions at 10k yuan, people at 1k); with a sequence, only
    that many levels are cascaded. Each level splits the target the level above just got.
    ``shares`` is the same mode at every level; with ``"actuals"``, ``actuals`` holds last
    period's amount of every goal cascaded to. A goal under two cascaded parents is an error
    (it would get two targets).
    """
    if actuals is not None and shares != "actuals":
        raise GoalGraphError(f"actuals are only read with shares='actuals' (not {shares!r})", goals=(root,))
    units: list[object] = list(unit) if isinstance(unit, Sequence) and not isinstance(unit, str) else []
    if isinstance(unit, Sequence) and not isinstance(unit, str) and not units:
        raise GoalGraphError("give at least one unit (one per level)", goals=(root,))
    steps: list[Cascade] = []
    given: dict[str, str] = {}
    level = [(root, amount)]
    depth = 0
    while level and (not units or depth < len(units)):
        step_unit = units[depth] if units else unit
        following: list[tuple[str, object]] = []
        for parent, total in level:
            kids = _children(graph, parent, None, quiet=True)
            if not kids:
                continue
            wanted = None if actuals is None or shares != "actuals" else {k: actuals.get(k, _MISSING) for k in kids}
            result = cascade(
                graph, parent, shares=shares, actuals=wanted, unit=step_unit, amount=total,
                as_of=as_of if parent == root else None, method=method,
            )
            for child in result.children:
                if child in given:
                    raise GoalGraphError(
                        f"{child!r} contributes to both {given[child]!r} and {parent!r}, so a cascade "
                        "through both would give it two targets; cascade each parent on its own",
                        goals=(child, given[child], parent),
                    )
                given[child] = parent
            steps.append(result)
            following.extend(result.targets.items())
        level = sorted(following)
        depth += 1
    if not steps:
        raise GoalGraphError("no goal contributes to this one, so there is nothing to cascade to", goals=(root,))
    return CascadeTree(root=root, cascades=tuple(steps))


# -- reading the inputs ----------------------------------------------------------------------

_MISSING = object()


def _unit(unit: object, parent: str) -> Decimal:
    try:
        value = to_decimal(unit)
    except ValueError as exc:
        raise GoalGraphError(f"the unit of the cascade is not a number: {exc}", goals=(parent,)) from None
    if value <= 0:
        raise GoalGraphError(f"the unit of the cascade must be positive, got {plain_text(value)}", goals=(parent,))
    return value


def _children(graph: GoalGraph, parent: str, chosen: Iterable[str] | None, *, quiet: bool = False) -> list[str]:
    below = graph.children(parent)
    if chosen is None:
        kids = sorted(c for c in below if graph[c].status != "archived")
        if not kids and not quiet:
            raise GoalGraphError(
                "no goal contributes to this one, so there is nothing to cascade to; link children first", goals=(parent,)
            )
        return kids
    kids = list(chosen) if not isinstance(chosen, str) else [chosen]
    problems = []
    seen: set[str] = set()
    for child in kids:
        if child in seen:
            problems.append(GoalGraphError(f"{child!r} is listed twice in children", goals=(parent, child)))
        elif child not in below:
            graph[child]  # an unknown id is reported with a did-you-mean
            problems.append(
                GoalGraphError(f"{child!r} does not contribute to {parent!r}; link it first", goals=(parent, child))
            )
        seen.add(child)
    if problems:
        raise one_error(problems, f"the children to cascade {parent!r} to have {len(problems)} problems", GoalGraphError)
    if not kids:
        raise GoalGraphError("no children were given to cascade to", goals=(parent,))
    return sorted(kids)


def _shares(
    graph: GoalGraph,
    parent: str,
    kids: list[str],
    shares: ShareMode | Mapping[str, object] | None,
    actuals: Mapping[str, object] | None,
) -> tuple[Basis, dict[str, Decimal]]:
    ids = (parent, *kids)
    if shares is None:
        shares = "equal" if actuals is None else "actuals"
    if isinstance(shares, Mapping):
        if actuals is not None:
            raise GoalGraphError("give shares or actuals, not both", goals=ids)
        values = _covering(shares, kids, parent, "share")
        total = exact_sum(values.values())
        if total != 1:
            listing = ", ".join(f"{child} {format_weight(share)}" for child, share in values.items())
            raise GoalGraphError(
                f"the shares of the children of {parent!r} must sum to exactly 100%, "
                f"but they sum to {format_weight(total)} ({listing})",
                goals=ids,
            )
        return "shares", values
    if shares != "actuals" and actuals is not None:
        raise GoalGraphError(f"actuals are only read with shares='actuals' (not {shares!r})", goals=ids)
    if shares == "equal":
        return "equal", dict.fromkeys(kids, Decimal(1))
    if shares == "weights":
        weights = {child: _edge_weight(graph[child], parent) for child in kids}
        missing = [child for child, weight in weights.items() if weight is None]
        if missing:
            raise GoalGraphError(
                f"the children of {parent!r} carry no weights ({', '.join(missing)}); "
                "give them weights, or split by shares='equal' or explicit shares",
                goals=ids,
            )
        return "weights", _positive({c: w for c, w in weights.items() if w is not None}, parent, "weight")
    if shares == "actuals":
        if actuals is None:
            raise GoalGraphError("shares='actuals' needs actuals={child: last period's amount}", goals=ids)
        return "actuals", _positive(_covering(actuals, kids, parent, "actual"), parent, "actual")
    raise GoalGraphError(
        f"unknown shares {shares!r}; use 'equal', 'weights', 'actuals' or a mapping of child to share", goals=ids
    )


def _covering(given: Mapping[str, object], kids: list[str], parent: str, what: str) -> dict[str, Decimal]:
    """``given`` read as numbers, one for each child exactly (by child id)."""
    problems = []
    extra = sorted(str(k) for k in given if k not in kids)
    if extra:
        problems.append(
            GoalGraphError(
                f"{what}s are given for goals that are not cascaded from {parent!r}: {', '.join(extra)}",
                goals=(parent, *extra),
            )
        )
    values: dict[str, Decimal] = {}
    for child in kids:
        raw = given.get(child, _MISSING)
        if raw is _MISSING:
            problems.append(GoalGraphError(f"no {what} is given for {child!r}", goals=(parent, child)))
            continue
        try:
            value = to_decimal(raw)
        except ValueError as exc:
            problems.append(GoalGraphError(f"the {what} of {child!r} is not a number: {exc}", goals=(parent, child)))
            continue
        if value < 0:
            problems.append(GoalGraphError(f"the {what} of {child!r} is negative ({value})", goals=(parent, child)))
        values[child] = value
    if problems:
        raise one_error(problems, f"the {what}s for cascading {parent!r} have {len(problems)} problems", GoalGraphError)
    return values


def _positive(values: dict[str, Decimal], parent: str, what: str) -> dict[str, Decimal]:
    if not any(values.values()):
        raise GoalGraphError(
            f"every {what} of the children of {parent!r} is 0, so there is no proportion to follow",
            goals=(parent, *values),
        )
    return values


def _edge_weight(child: Goal, parent: str) -> Decimal | None:
    for link in child.contributes_to:
        if link.goal == parent:
            return link.weight
    return None


def _amount_of(graph: GoalGraph, goal: Goal, amount: object, as_of: When | None) -> Decimal:
    if amount is not None:
        try:
            return to_decimal(amount)
        except ValueError as exc:
            raise GoalGraphError(f"the amount to cascade is not a number: {exc}", goals=(goal.id,)) from None
    target = goal.target if as_of is None else graph.rollup(as_of)[goal.id].target
    if target is None:
        raise GoalGraphError("this goal has no target to cascade; give it one, or pass amount=", goals=(goal.id,))
    return target


def _check_whole(amount: Decimal, unit: Decimal, parent: str) -> None:
    if amount < 0:
        raise GoalGraphError(f"the target {_amount(amount)} is negative and cannot be split", goals=(parent,))
    with decimal.localcontext(CONTEXT):
        units = amount / unit
        below = units.to_integral_value(rounding=decimal.ROUND_FLOOR)
        if units == below:
            return
        lower, upper = below * unit, (below + 1) * unit
    raise GoalGraphError(
        f"the target {_amount(amount)} is not a whole number of units of {_amount(unit)}, "
        f"so the parts cannot sum to it exactly; the nearest amounts that are: {_amount(lower)} and "
        f"{_amount(upper)} (or use a smaller unit)",
        goals=(parent,),
    )


# -- applying ---------------------------------------------------------------------------------


def _apply(
    graph: GoalGraph,
    targets: Mapping[str, Decimal],
    effective: When | None,
    reason: str | None,
    proposed_by: str | None,
    replace: bool,
) -> GoalGraph:
    for child in targets:
        graph[child]  # unknown ids fail first, with a did-you-mean
    if effective is None:
        if reason is not None or proposed_by is not None:
            raise GoalGraphError(
                "reason and proposed_by describe a revision: give effective= too, or leave them out",
                goals=tuple(targets),
            )
        changed = _set_targets(graph, targets, replace)
    else:
        changed = _propose(graph, targets, effective, reason, proposed_by)
    if not changed:
        return graph
    return graph.replace(*changed.values())


def _set_targets(graph: GoalGraph, targets: Mapping[str, Decimal], replace: bool) -> dict[str, Goal]:
    changed: dict[str, Goal] = {}
    problems = []
    for child, target in targets.items():
        goal = graph[child]
        if goal.target == target:
            continue
        if goal.target is not None and not replace:
            problems.append(
                GoalGraphError(
                    f"{child!r} already has the target {_amount(goal.target)} and the cascade gives "
                    f"{_amount(target)}; pass replace=True to overwrite it, or effective= to propose a revision",
                    goals=(child,),
                )
            )
            continue
        changed[child] = goal.model_copy(update={"target": target})
    if problems:
        raise one_error(problems, f"{len(problems)} children already have other targets", GoalGraphError)
    return changed


def _propose(
    graph: GoalGraph, targets: Mapping[str, Decimal], effective: When, reason: str | None, proposed_by: str | None
) -> dict[str, Goal]:
    missing = [name for name, value in (("reason", reason), ("proposed_by", proposed_by)) if not value]
    if missing:
        raise GoalGraphError(
            f"a proposed revision says why and who proposed it: give {' and '.join(missing)}", goals=tuple(targets)
        )
    in_force = graph.rollup(effective)
    changed: dict[str, Goal] = {}
    problems = []
    for child, target in targets.items():
        current = in_force[child].target
        if current == target:
            continue
        if current is None:
            problems.append(
                GoalGraphError(
                    f"{child!r} has no target to revise; apply the cascade without effective= to set one",
                    goals=(child,),
                )
            )
            continue
        data = {"effective": effective, "target": target, "reason": reason, "proposed_by": proposed_by}
        try:
            revision = Revision.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")
            raise GoalGraphError(f"{where}: {message}", goals=(child,)) from None
        goal = graph[child]
        changed[child] = goal.model_copy(update={"revisions": (*goal.revisions, revision)})
    if problems:
        raise one_error(problems, f"{len(problems)} children cannot take a revision", GoalGraphError)
    return changed


# -- text -------------------------------------------------------------------------------------


def _amount(value: Decimal) -> str:
    """``21430000`` → ``21,430,000`` (fixed point, no trailing zeros)."""
    text = plain_text(value)
    whole, dot, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}{dot}{fraction}"


def _table(step: Cascade) -> list[str]:
    fractions = step.fractions()
    rows = [(child, percent(fractions[child]), _amount(target)) for child, target in step.targets.items()]
    rows.append(("total", "", _amount(sum(step.targets.values(), Decimal(0)))))
    first = max(display_width(r[0]) for r in rows)
    second = max(len(r[1]) for r in rows)
    third = max(len(r[2]) for r in rows)
    return [
        f"  {name}{' ' * (first - display_width(name))}  {share:>{second}}  {target:>{third}}"
        for name, share, target in rows
    ]
