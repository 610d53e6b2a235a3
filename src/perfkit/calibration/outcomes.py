"""Outcomes: grade → multiplier → bonus, plain or shared exactly from a fixed pool.

A person's bonus is ``base × multiplier of their grade × department factor`` (the factor
only when factors are given), rounded to a quantum (one cent by default, half-up):

>>> from perfkit.calibration import Grade, GradeScale
>>> scale = GradeScale((Grade("A", Decimal(85), Decimal("1.2")), Grade("B", None, Decimal("1.0"))))
>>> result = bonuses({"1001": "A", "1002": "B"}, {"1001": 10000, "1002": "8000.555"}, scale)
>>> result["1001"].amount, result["1002"].amount, result.total
(Decimal('12000.00'), Decimal('8000.56'), Decimal('20000.56'))

:func:`pool_bonuses` scales the same raw amounts so that they add up to a pool exactly, to
the cent (largest remainder over whole cents):

>>> shared = pool_bonuses({"1001": "A", "1002": "B", "1003": "B"}, dict.fromkeys(["1001", "1002", "1003"], 1), scale, 100)
>>> [line.amount for line in shared.lines], shared.total
([Decimal('37.50'), Decimal('31.25'), Decimal('31.25')], Decimal('100.00'))

People a rule made ineligible (``ineligible`` maps their id to the reason) get 0, keep the
reason on their line, and take no share of a pool. Every input problem (a grade missing
from the scale or without a multiplier, a person without a base, a department without a
factor) is reported at once in one :class:`~perfkit.errors.CalibrationError`.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

from perfkit._text import display_width
from perfkit.apportion import apportion
from perfkit.calibration.scale import GradeScale
from perfkit.errors import CalibrationError, one_error
from perfkit.numbers import RoundingMode, exact_sum, plain_text, quantize, shift, to_decimal
from perfkit.rules.scorecard import ScoreCard

__all__ = ["BonusLine", "BonusResult", "bonuses", "ineligible_for", "pool_bonuses"]

_EXACT = decimal.Context(prec=100_000, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])


@attrs.frozen(kw_only=True)
class BonusLine:
    """One person's bonus and how it came about.

    ``department_factor`` is None when no factors were given; ``ineligible_reason`` is the
    reason a rule removed the person's eligibility (their ``amount`` is then 0), else None.
    """

    employee_id: str
    grade: str
    base: Decimal
    multiplier: Decimal
    department_factor: Decimal | None
    amount: Decimal
    ineligible_reason: str | None = None

    @property
    def eligible(self) -> bool:
        return self.ineligible_reason is None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class BonusResult:
    """Bonus lines sorted by employee id, their ``total``, and the ``pool`` they share (or None).

    ``result["1001"]`` is one person's :class:`BonusLine`; ``len(result)`` and iteration go
    over the lines.
    """

    lines: tuple[BonusLine, ...]
    total: Decimal
    pool: Decimal | None = None
    _index: dict[str, BonusLine] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {line.employee_id: line for line in self.lines})

    def __getitem__(self, employee_id: str) -> BonusLine:
        try:
            return self._index[employee_id]
        except KeyError:
            raise KeyError(f"no bonus line for employee {employee_id!r}") from None

    def __contains__(self, employee_id: object) -> bool:
        return employee_id in self._index

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[BonusLine]:
        return iter(self.lines)

    @property
    def amounts(self) -> dict[str, Decimal]:
        """Employee id → amount, in employee id order."""
        return {line.employee_id: line.amount for line in self.lines}

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per line (the :class:`BonusLine` fields); numbers stay Decimal."""
        return [line.to_dict() for line in self.lines]

    def to_text(self) -> str:
        """A table of the lines, then the total (and the pool, when there is one)."""
        header = ("employee", "grade", "base", "multiplier", "factor", "amount", "note")
        rows = [
            (
                line.employee_id,
                line.grade,
                _money(line.base),
                plain_text(line.multiplier),
                "-" if line.department_factor is None else plain_text(line.department_factor),
                _money(line.amount),
                "" if line.ineligible_reason is None else f"ineligible: {line.ineligible_reason}",
            )
            for line in self.lines
        ]
        rows.append(("total", "", "", "", "", _money(self.total), ""))
        if self.pool is not None:
            rows.append(("pool", "", "", "", "", _money(self.pool), ""))
        widths = [max(display_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
        numeric = {2, 3, 4, 5}
        out = []
        for row in [header, *rows]:
            cells = [_pad(cell, widths[i], right=i in numeric) for i, cell in enumerate(row)]
            out.append("  ".join(cells).rstrip())
        return "\n".join(out)

    def __str__(self) -> str:
        return self.to_text()


@attrs.frozen(kw_only=True)
class _Person:
    employee_id: str
    grade: str
    base: Decimal
    multiplier: Decimal
    factor: Decimal | None
    raw: Decimal
    """base × multiplier × factor, exact (not rounded)."""
    reason: str | None


def bonuses(
    grades: Mapping[str, str],
    base: Mapping[str, object],
    scale: GradeScale,
    *,
    department_of: Mapping[str, str] | None = None,
    department_factor: Mapping[str, object] | None = None,
    ineligible: Mapping[str, str] | None = None,
    quantum: object = Decimal("0.01"),
    rounding: RoundingMode | str = RoundingMode.HALF_UP,
) -> BonusResult:
    """Each person's bonus: ``base × multiplier × department factor``, rounded to ``quantum``.

    ``grades`` maps employee id → grade name; ``base`` maps employee id → base amount
    (Decimal, int, str or float, read exactly; ids ``base`` has beyond ``grades`` are
    ignored). ``department_of`` maps employee id → department and ``department_factor``
    department → factor; without factors no factor applies. ``ineligible`` maps employee id
    → the reason they get nothing. ``quantum`` is a power of ten (``0.01``, ``1``, ``100``);
    ``rounding`` a :class:`~perfkit.numbers.RoundingMode` (default half-up).

    Raises :class:`~perfkit.errors.CalibrationError` naming every employee with a problem.
    """
    places = _places(quantum)
    mode = _mode(rounding)
    people = _people(grades, base, scale, department_of, department_factor, ineligible)
    lines = []
    problems = []
    for person in people:
        try:
            amount = _zero(places) if person.reason is not None else _plain(quantize(person.raw, places, mode), places)
        except decimal.DecimalException:
            problems.append(
                CalibrationError(
                    f"the amount {person.raw} has too many digits to round to {_unit(places)}",
                    employee_id=person.employee_id,
                )
            )
            continue
        lines.append(_line(person, amount))
    _raise(problems)
    return BonusResult(lines=tuple(lines), total=exact_sum(line.amount for line in lines))


def pool_bonuses(
    grades: Mapping[str, str],
    base: Mapping[str, object],
    scale: GradeScale,
    pool: object,
    *,
    department_of: Mapping[str, str] | None = None,
    department_factor: Mapping[str, object] | None = None,
    ineligible: Mapping[str, str] | None = None,
    quantum: object = Decimal("0.01"),
    rounding: RoundingMode | str = RoundingMode.HALF_UP,
) -> BonusResult:
    """Bonuses that add up to ``pool`` exactly, in proportion to the raw amounts.

    The raw amounts are those of :func:`bonuses` before rounding. The pool, a whole number of
    quanta, is shared out in whole quanta by largest remainder
    (:func:`perfkit.apportion.apportion`), people taken in employee id order, so a tie for
    the last cent goes to the smaller id. What this promises, for eligible people:

    * the amounts sum to ``pool`` exactly;
    * each amount is within one quantum of the exact proportional share;
    * a larger raw amount never gets less; equal raw amounts differ by at most one quantum.

    Ineligible people get 0 and take no share. ``rounding`` is accepted for symmetry with
    :func:`bonuses` and checked, but largest remainder decides every quantum here.
    """
    places = _places(quantum)
    _mode(rounding)
    total = _pool_units(pool, places)
    people = _people(grades, base, scale, department_of, department_factor, ineligible)
    sharing = {p.employee_id: p.raw for p in people if p.reason is None}
    if total and not any(sharing.values()):
        raise CalibrationError(
            f"the pool of {_money(_from_units(total, places))} cannot be shared: every eligible person's raw amount "
            "is 0 (or no one is eligible), so there is no proportion to follow"
        )
    units = apportion(total, sharing) if total else dict.fromkeys(sharing, 0)
    lines = [
        _line(p, _zero(places) if p.reason is not None else _from_units(units[p.employee_id], places)) for p in people
    ]
    return BonusResult(
        lines=tuple(lines), total=exact_sum(line.amount for line in lines), pool=_from_units(total, places)
    )


# -- reading the inputs ------------------------------------------------------------------------


def _people(
    grades: Mapping[str, str],
    base: Mapping[str, object],
    scale: GradeScale,
    department_of: Mapping[str, str] | None,
    department_factor: Mapping[str, object] | None,
    ineligible: Mapping[str, str] | None,
) -> list[_Person]:
    """Every graded person with exact numbers, sorted by id; all problems raised at once."""
    if department_factor is not None and department_of is None:
        raise CalibrationError("department factors are given but department_of is not; pass both, or neither")
    ineligible = ineligible or {}
    problems: list[CalibrationError] = []
    strays = sorted(set(ineligible) - set(grades))
    if strays:
        problems.append(
            CalibrationError(
                f"ineligible lists employees without a grade: {', '.join(strays)}; check the ids "
                "(a misspelt id would let the person through)"
            )
        )
    factors = _factors(department_factor, problems) if department_factor is not None else None
    people = []
    for employee_id in sorted(grades):
        person = _person(employee_id, grades[employee_id], base, scale, department_of, factors, ineligible, problems)
        if person is not None:
            people.append(person)
    _raise(problems)
    return people


def _person(
    employee_id: str,
    grade: str,
    base: Mapping[str, object],
    scale: GradeScale,
    department_of: Mapping[str, str] | None,
    factors: Mapping[str, Decimal | None] | None,
    ineligible: Mapping[str, str],
    problems: list[CalibrationError],
) -> _Person | None:
    found = len(problems)

    def problem(message: str) -> None:
        problems.append(CalibrationError(message, employee_id=employee_id, grade=grade))

    multiplier = None
    if grade not in scale:
        problem(f"grade {grade!r} is not in the scale ({', '.join(scale.names)})")
    else:
        multiplier = scale.grade(grade).multiplier
        if multiplier is None:
            problem(f"grade {grade!r} has no multiplier in the scale")
        elif multiplier < 0:
            problem(f"grade {grade!r} has a negative multiplier ({multiplier})")
    amount = None
    if employee_id not in base:
        problem("no base amount")
    else:
        try:
            amount = to_decimal(base[employee_id])
        except ValueError as exc:
            problem(f"bad base amount: {exc}")
        else:
            if amount < 0:
                problem(f"the base amount is negative ({amount})")
    factor = None
    if factors is not None and department_of is not None:
        department = department_of.get(employee_id)
        if department is None:
            problem("no department (department factors are given, so everyone needs one)")
        elif department not in factors:
            problem(f"department {department!r} has no factor")
        else:
            factor = factors[department]
            if factor is None:  # the factor itself is bad; reported once, by department
                return None
    if len(problems) > found or multiplier is None or amount is None:
        return None
    try:
        raw = _EXACT.multiply(amount, multiplier)
        if factor is not None:
            raw = _EXACT.multiply(raw, factor)
    except decimal.DecimalException:
        problem(f"base × multiplier × factor ({amount} × {multiplier} × {factor}) is out of range")
        return None
    return _Person(
        employee_id=employee_id,
        grade=grade,
        base=amount,
        multiplier=multiplier,
        factor=factor,
        raw=raw,
        reason=ineligible.get(employee_id),
    )


def _factors(department_factor: Mapping[str, object], problems: list[CalibrationError]) -> dict[str, Decimal | None]:
    """Department → factor; a bad factor becomes None after its problem is recorded."""
    factors: dict[str, Decimal | None] = {}
    for department in sorted(department_factor):
        value = department_factor[department]
        factors[department] = None
        try:
            factor = to_decimal(value)
        except ValueError as exc:
            problems.append(CalibrationError(f"bad factor for department {department!r}: {exc}"))
            continue
        if factor < 0:
            problems.append(CalibrationError(f"the factor of department {department!r} is negative ({factor})"))
            continue
        factors[department] = factor
    return factors


def _places(quantum: object) -> int:
    """Decimal places of a power-of-ten quantum: 0.01 → 2, 1 → 0, 100 → -2."""
    try:
        value = to_decimal(quantum)
    except ValueError as exc:
        raise CalibrationError(f"bad quantum: {exc}") from None
    sign, digits, exponent = value.normalize(decimal.Context(prec=1000)).as_tuple()
    if sign or digits != (1,) or not isinstance(exponent, int):
        raise CalibrationError(f"the quantum must be a power of ten (0.01, 1, 100), got {quantum!r}")
    return -exponent


def _mode(rounding: RoundingMode | str) -> RoundingMode:
    try:
        return RoundingMode(rounding)
    except ValueError:
        known = ", ".join(m.value for m in RoundingMode)
        raise CalibrationError(f"unknown rounding mode {rounding!r}; use one of {known}") from None


def _pool_units(pool: object, places: int) -> int:
    """The pool as a whole number of quanta."""
    try:
        amount = to_decimal(pool)
    except ValueError as exc:
        raise CalibrationError(f"bad bonus pool: {exc}") from None
    if amount < 0:
        raise CalibrationError(f"the bonus pool is negative ({amount})")
    units = shift(amount, places)
    if units != units.to_integral_value():
        raise CalibrationError(
            f"the bonus pool {amount} is not a whole number of {_unit(places)}, so the bonuses cannot add up to it "
            "exactly; round the pool first"
        )
    return int(units)


# -- amounts -----------------------------------------------------------------------------------


def _from_units(units: int, places: int) -> Decimal:
    """``units`` quanta as an amount with the quantum's places (12 cents → 0.12)."""
    return _plain(shift(Decimal(units), -places), places)


def _plain(amount: Decimal, places: int) -> Decimal:
    """Whole amounts without an exponent (1.2E+3 → 1200) when the quantum is 10 or more."""
    return amount.quantize(Decimal(1), context=_EXACT) if places < 0 else amount


def _zero(places: int) -> Decimal:
    return _from_units(0, places)


def _unit(places: int) -> str:
    return format(shift(Decimal(1), -places), "f")


def _line(person: _Person, amount: Decimal) -> BonusLine:
    return BonusLine(
        employee_id=person.employee_id,
        grade=person.grade,
        base=person.base,
        multiplier=person.multiplier,
        department_factor=person.factor,
        amount=amount,
        ineligible_reason=person.reason,
    )


def _raise(problems: list[CalibrationError]) -> None:
    if problems:
        raise one_error(problems, f"{len(problems)} problems with the bonus inputs", CalibrationError)


def _money(value: Decimal) -> str:
    return format(value, ",f")


def _pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def ineligible_for(cards: Iterable[ScoreCard], what: str = "bonus") -> dict[str, str]:
    """Who a rule made ineligible for ``what`` (``bonus``, ``promotion``), and why.

    Reads each score card's fired rules (``veto: {ineligible: [bonus]}``): the reason is the
    rule's ``reason`` when it has one, else its id. Pass the result as ``ineligible=`` to
    :func:`bonuses` or :func:`pool_bonuses`.
    """
    found: dict[str, str] = {}
    for card in cards:
        reasons = [rule.reason or rule.id for rule in card.fired if what in rule.ineligible]
        if reasons:
            found[card.employee_id] = "; ".join(reasons)
    return dict(sorted(found.items()))
