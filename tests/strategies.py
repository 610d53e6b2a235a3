"""Shared hypothesis strategies for perfkit's property tests.

Everything here builds *plain data* the way a user writes it (decimals, weight spellings,
scheme dicts, rows, formula text); the tests push it through perfkit's public entry points.
Decimals are built exactly from integers (:func:`exact`), never through float or through a
decimal context, so a strategy never rounds what it claims to generate.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from perfkit.numbers import RoundingMode

__all__ = [
    "NAMES",
    "condition_formulas",
    "decimal_values",
    "decimals_near_ties",
    "environments",
    "exact",
    "fixed_point",
    "formulas",
    "literal",
    "number_formulas",
    "piecewise_points",
    "sales_row",
    "sales_rows",
    "scheme_dicts",
    "spell",
    "spelled",
    "spellings",
    "weight_lists",
    "weight_units",
]

# -- exact decimals ---------------------------------------------------------------------------


def exact(units: int, places: int) -> Decimal:
    """``units × 10**-places`` as an exact Decimal (``places`` may be negative).

    >>> exact(84995, 3), exact(-5, 3), exact(7, -2)
    (Decimal('84.995'), Decimal('-0.005'), Decimal('7E+2'))
    """
    digits = tuple(int(d) for d in str(abs(units)))
    return Decimal((1 if units < 0 else 0, digits, -places))


def literal(value: Decimal) -> str:
    """A decimal as formula text: plain digits, negatives in parentheses.

    >>> literal(Decimal("1E+3")), literal(Decimal("-2.50"))
    ('1000', '(-2.50)')
    """
    text = format(value, "f")
    return f"({text})" if text.startswith("-") else text


def float_exact(value: Decimal) -> bool:
    """True when ``float(value)`` reads back (through its repr) as exactly ``value``."""
    return Decimal(repr(float(value))) == value


@st.composite
def decimals_near_ties(draw: st.DrawFn, places: int = 2) -> Decimal:
    """Decimals at, just above or just below a rounding tie at ``places`` (…xx5), both signs.

    With ``places=2``: ``84.995``, ``84.9949999``, ``-0.0050001``, ``12.3450000``...
    """
    units = draw(st.integers(-(10**9), 10**9))
    extra = draw(st.integers(0, 6))
    tie = (units * 10 + 5) * 10**extra  # an odd multiple of 5 in the digit after `places`
    spread = 10**extra
    offset = draw(st.sampled_from([0, 0, 1, -1]) | st.integers(-spread, spread))
    zeros = draw(st.integers(0, 3))  # trailing zeros: same value, other exponents
    return exact((tie + offset) * 10**zeros, places + 1 + extra + zeros)


def spellings(value: Decimal, *, percent: bool = False) -> list[object]:
    """The ways a user may hand perfkit ``value``: Decimal, text, int, float (when exact), ``"NN%"``."""
    options: list[object] = [value, format(value, "f"), str(value)]
    if value == value.to_integral_value():
        options.append(int(value))
    if float_exact(value):
        options.append(float(value))
    if percent:
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        options.append(format(Decimal((sign, digits, exponent + 2)), "f") + "%")
    return options


def spell(draw: st.DrawFn, value: Decimal, *, percent: bool = False) -> object:
    """Draw one of :func:`spellings` (inside a composite strategy)."""
    options = spellings(value, percent=percent)
    return options[draw(st.integers(0, len(options) - 1))]


@st.composite
def spelled(draw: st.DrawFn, values: st.SearchStrategy[Decimal], *, percent: bool = False) -> tuple[Decimal, object]:
    """``(value, spelling)`` for values drawn from ``values``."""
    value = draw(values)
    return value, spell(draw, value, percent=percent)


def fixed_point(low: int, high: int, places: int) -> st.SearchStrategy[Decimal]:
    """Decimals ``low..high`` (in units of ``10**-places``), exactly ``places`` decimal places."""
    return st.integers(low, high).map(lambda n: exact(n, places))


decimal_values = st.one_of(
    st.sampled_from([Decimal(0), Decimal(1), Decimal(-1), Decimal("0.5"), Decimal(100), Decimal("-0.001")]),
    fixed_point(-10_000_000, 10_000_000, 3),
    st.integers(-(10**30), 10**30).map(Decimal),
    st.integers(-(10**6), 10**6).map(lambda n: exact(n, 30)),
)
"""Decimals for formula environments: zeros, small, long (30 digits) and tiny values."""


# -- weights ----------------------------------------------------------------------------------


def _unit(places: int) -> st.SearchStrategy[int]:
    """A weight in units of ``10**-places``, 0..100%: any integer, or every digit random
    (so long weights really have ``places`` significant digits)."""
    whole = 10**places
    digits = st.lists(st.integers(0, 9), min_size=places, max_size=places).map(lambda ds: int("".join(map(str, ds))))
    return st.integers(0, whole) | digits


def _units(draw: st.DrawFn, places: int, size: int, sums_to_one: bool) -> list[int]:
    whole = 10**places
    if sums_to_one:
        cuts = sorted(draw(st.lists(_unit(places), min_size=size - 1, max_size=size - 1)))
        edges = [0, *cuts, whole]
        return [right - left for left, right in zip(edges, edges[1:])]
    return draw(st.lists(_unit(places), min_size=size, max_size=size).filter(lambda u: sum(u) != whole))


@st.composite
def weight_units(
    draw: st.DrawFn,
    *,
    sums_to_one: bool = True,
    max_places: int = 34,
    min_size: int = 1,
    max_size: int = 6,
) -> tuple[int, list[int]]:
    """``(places, units)``: weights ``units[i] × 10**-places``, each in 0..1.

    With ``sums_to_one`` the units add up to exactly ``10**places`` (100%); otherwise they
    add up to anything else. ``places`` goes up to ``max_places`` decimal places (34 is the
    precision of perfkit's decimal context), small ones and the maximum more often.
    """
    places = draw(st.integers(1, min(4, max_places)) | st.integers(1, max_places) | st.just(max_places))
    size = draw(st.integers(min_size, max_size))
    return places, _units(draw, places, size, sums_to_one)


@st.composite
def weight_lists(
    draw: st.DrawFn, *, sums_to_one: bool = True, max_places: int = 34, max_size: int = 6
) -> tuple[list[Decimal], list[object]]:
    """``(values, spellings)``: exact weights and how a scheme writes them.

    Spellings mix ``"NN.N%"`` text, fraction text (``"0.125"``), Decimals, ints and floats.
    """
    places, units = draw(weight_units(sums_to_one=sums_to_one, max_places=max_places, max_size=max_size))
    values = [exact(u, places) for u in units]
    return values, [spell(draw, v, percent=True) for v in values]


# -- formulas ---------------------------------------------------------------------------------

NAMES = ("a", "b", "c")
"""The names generated formulas read (see :func:`environments`)."""

_LITERALS = st.one_of(
    st.integers(-3, 12).map(Decimal),
    fixed_point(-100_000, 100_000, 2),
    st.sampled_from([Decimal("0.5"), Decimal("0.001"), Decimal("0.1"), Decimal("1E+20"), Decimal("1E-20")]),
)
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


def _join(parts: Sequence[str]) -> str:
    return ", ".join(parts)


def _choice(draw: st.DrawFn, count: int) -> int:
    return draw(st.integers(0, count - 1))


def _literal(draw: st.DrawFn) -> str:
    return literal(draw(_LITERALS))


def _number(draw: st.DrawFn, names: tuple[str, ...], depth: int) -> str:
    """Text of a random number formula (see :func:`number_formulas`)."""
    if depth <= 0 or _choice(draw, 4) == 0:
        return draw(st.sampled_from(names)) if draw(st.booleans()) else _literal(draw)

    def n() -> str:
        return _number(draw, names, depth - 1)

    production = _choice(draw, 13)
    if production == 0:
        return f"({n()} {draw(st.sampled_from('+-*/'))} {n()})"
    if production == 1:
        return f"(-{n()})"
    if production == 2:
        function = draw(st.sampled_from(["min", "max"]))
        return f"{function}({_join([n() for _ in range(draw(st.integers(2, 3)))])})"
    if production == 3:
        return f"abs({n()})"
    if production == 4:
        return f"clamp({n()}, {n()}, {n()})"
    if production == 5:
        return f"round({n()}, {draw(st.integers(0, 10))})"
    if production == 6:
        return f"round({n()})"
    if production in (7, 8):
        x = n()
        xs = sorted(draw(st.lists(_LITERALS, min_size=2 if production == 7 else 1, max_size=4, unique=True)))
        points = _join([f"({literal(xi)}, {n()})" for xi in xs])
        return f"piecewise({x}, {points})" if production == 7 else f"steps({x}, {points}, default={n()})"
    if production == 9:
        return f"ratio({n()}, {n()}, default={n()})"
    if production == 10:
        return f"({n()} if {_condition(draw, names, depth - 1)} else {n()})"
    return f"({n()} {draw(st.sampled_from('+-*/'))} {n()})"  # the arithmetic operators, twice as often


def _condition(draw: st.DrawFn, names: tuple[str, ...], depth: int) -> str:
    """Text of a random condition formula (see :func:`condition_formulas`)."""
    production = 0 if depth <= 0 else _choice(draw, 6)
    if production == 0 and _choice(draw, 5) == 0:
        return draw(st.sampled_from(["True", "False"]))
    if production in (0, 1, 2):
        parts = [_number(draw, names, depth - 1)]
        for _ in range(draw(st.integers(1, 2))):
            parts += [draw(st.sampled_from(_COMPARISONS)), _number(draw, names, depth - 1)]
        return "(" + " ".join(parts) + ")"
    if production in (3, 4):
        operator = draw(st.sampled_from(["and", "or"]))
        operands = [_condition(draw, names, depth - 1) for _ in range(draw(st.integers(2, 3)))]
        return "(" + f" {operator} ".join(operands) + ")"
    return f"(not {_condition(draw, names, depth - 1)})"


@lru_cache(maxsize=None)
def number_formulas(names: tuple[str, ...] = NAMES, depth: int = 3) -> st.SearchStrategy[str]:
    """Formula text that gives a number, over ``names``, nested up to ``depth``.

    Grammar: literals, names, ``+ - * /``, unary minus, ``min``/``max``/``abs``/``clamp``,
    ``round(x, n)`` and ``round(x)``, ``piecewise``/``steps`` with written-out increasing
    x's, ``ratio(a, b, default=d)``, ``a if condition else b``.
    """
    return st.composite(lambda draw: _number(draw, names, depth))()


@lru_cache(maxsize=None)
def condition_formulas(names: tuple[str, ...] = NAMES, depth: int = 3) -> st.SearchStrategy[str]:
    """Formula text that gives true or false: ``True``/``False``, comparisons (chained too),
    ``and``/``or``/``not`` over conditions, with number formulas inside."""
    return st.composite(lambda draw: _condition(draw, names, depth))()


formulas = st.booleans().flatmap(
    lambda number: number_formulas().map(lambda t: ("number", t))
    if number
    else condition_formulas().map(lambda t: ("condition", t))
)
"""``(kind, text)``: a random number or condition formula over :data:`NAMES`."""

environments = st.fixed_dictionaries({name: decimal_values for name in NAMES})
"""Decimal values for :data:`NAMES`."""


@st.composite
def piecewise_points(draw: st.DrawFn) -> list[tuple[Decimal, Decimal]]:
    """Points with strictly increasing x's and non-decreasing y's (a non-decreasing curve)."""
    values = fixed_point(-1_000_000, 1_000_000, 3)
    size = draw(st.integers(2, 6))
    xs = sorted(draw(st.lists(values, min_size=size, max_size=size, unique=True)))
    ys = sorted(draw(st.lists(values, min_size=size, max_size=size)))
    return list(zip(xs, ys))


# -- schemes ----------------------------------------------------------------------------------

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_NAME_POOL = ("x", "sales", "rate", "k1", "e", "yes", "no", "on", "null", "true")
"""Input names and KPI ids; some read as something else in YAML 1.1 (yes, on, null, ...)."""
slugs = st.builds(
    str.__add__, st.sampled_from(_LOWER + _DIGITS), st.text(alphabet=_LOWER + _DIGITS + "._-", max_size=10)
)
free_text = st.text(
    alphabet=st.sampled_from(list("abcXYZ 019:#-'\"%&*!|>{}[],?@`\n") + list("销售额考核回款率")), max_size=30
).map(str.strip)
"""Names, units, descriptions and reasons, with YAML-sensitive characters and CJK."""

scheme_numbers = st.one_of(
    st.integers(-1000, 1000).map(Decimal),
    fixed_point(-100_000, 100_000, 2),
    st.integers(0, 10**40).map(lambda n: exact(n, 20)),
    st.sampled_from([Decimal("1E+20"), Decimal("1E-7"), Decimal("123456789012345678")]),
)
"""Numbers a scheme writes: small, money-like, long and awkward (1E+20, 1E-7)."""

_GRADES = ("S", "A", "B", "C", "D", "优", "良", "Meets")
_MODES = st.sampled_from([m.value for m in RoundingMode])
_VERSIONS = free_text | st.sampled_from(["2026.1", "1", "1.0", "yes", "null"])
_GROUP_BY = free_text | st.lists(free_text, max_size=3).map(tuple)
_MULTIPLIERS = fixed_point(0, 300, 2)
_MIN_SCORES = fixed_point(-10_000, 20_000, 2)


def _maybe(draw: st.DrawFn, strategy: st.SearchStrategy[Any]) -> Any:
    """A value from ``strategy``, or None (the field is left out)."""
    return draw(strategy) if draw(st.booleans()) else None


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _input_spec(draw: st.DrawFn) -> dict[str, Any]:
    low, default, high = sorted(draw(scheme_numbers) for _ in range(3))
    spec = {
        "unit": _maybe(draw, free_text),
        "min": low if draw(st.booleans()) else None,
        "max": high if draw(st.booleans()) else None,
        "default": default if draw(st.booleans()) else None,
        "source": _maybe(draw, free_text),
        "description": _maybe(draw, free_text),
    }
    return _drop_none(spec)


@st.composite
def scheme_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A scheme as plain data (what a YAML/JSON file holds) that is meant to be valid.

    Formulas come from the formula grammar, so a few (a constant ``1/0``) do not compile;
    the caller rejects those. The worst grade leaves ``min_score`` out, so every total has a
    band. Weights have up to 34 decimal places; with ``normalize_weights`` they need not
    sum to 100%.
    """
    pool = draw(st.permutations(_NAME_POOL))
    input_count = draw(st.integers(1, 3))
    kpi_count = draw(st.integers(1, 4))
    input_names = tuple(sorted(pool[:input_count]))
    kpi_ids = pool[input_count : input_count + kpi_count]
    normalize = draw(st.booleans())
    places, units = draw(
        weight_units(sums_to_one=not normalize, min_size=kpi_count, max_size=kpi_count).filter(lambda pu: any(pu[1]))
    )
    weights = [spell(draw, exact(u, places), percent=True) for u in units]

    inputs = {name: _input_spec(draw) for name in input_names}
    kpis = [
        _drop_none(
            {
                "id": kpi_id,
                "name": _maybe(draw, free_text),
                "weight": weight,
                "score": draw(number_formulas(input_names, 1)),
                "description": _maybe(draw, free_text),
            }
        )
        for kpi_id, weight in zip(kpi_ids, weights)
    ]
    readable = tuple(sorted((*input_names, *kpi_ids)))
    grade_names = draw(st.lists(st.sampled_from(_GRADES), min_size=1, max_size=4, unique=True))
    scores = sorted(
        draw(st.lists(_MIN_SCORES, min_size=len(grade_names) - 1, max_size=len(grade_names) - 1, unique=True)),
        reverse=True,
    )
    grades = [
        _drop_none(
            {
                "grade": grade,
                "min_score": score,
                "multiplier": _maybe(draw, _MULTIPLIERS),
                "description": _maybe(draw, free_text),
            }
        )
        for grade, score in zip(grade_names, [*scores, None])
    ]
    grade_choice = st.sampled_from(grade_names)
    rules = []
    for rule_id in draw(st.lists(slugs, max_size=3, unique=True)):
        then = _drop_none(
            {
                "cap_grade": _maybe(draw, grade_choice),
                "floor_grade": _maybe(draw, grade_choice),
                "flag": _maybe(draw, slugs),
            }
        )
        if not then:
            then = {"flag": draw(slugs)}
        rules.append(
            _drop_none(
                {
                    "id": rule_id,
                    "when": draw(condition_formulas((*readable, "total"), 1)),
                    "then": then,
                    "reason": _maybe(draw, free_text),
                    "description": _maybe(draw, free_text),
                }
            )
        )
    calibration = None
    if draw(st.booleans()):
        shares = draw(weight_lists(max_size=len(grade_names), max_places=4))[1]
        calibration = _drop_none(
            {
                "group_by": _maybe(draw, _GROUP_BY),
                "distribution": dict(zip(grade_names, shares)) if draw(st.booleans()) else None,
            }
        )
    rounding = None
    if draw(st.booleans()):
        rounding = _drop_none(
            {
                "kpi": _maybe(draw, st.integers(0, 10)),
                "total": _maybe(draw, st.integers(0, 10)),
                "mode": _maybe(draw, _MODES),
            }
        )
    data = {
        "perfkit": 1,
        "id": draw(slugs),
        "name": _maybe(draw, free_text),
        "version": _maybe(draw, _VERSIONS),
        "period": _maybe(draw, free_text),
        "description": _maybe(draw, free_text),
        "inputs": inputs,
        "kpis": kpis,
        "total": _maybe(draw, number_formulas(readable, 1)),
        "normalize_weights": normalize if normalize or draw(st.booleans()) else None,
        "rounding": rounding,
        "rules": rules or None,
        "grades": grades,
        "calibration": calibration,
    }
    return _drop_none(data)


# -- rows of the sales example ------------------------------------------------------------------

employee_ids = st.builds("{}{:03d}".format, st.sampled_from(["", "E", "EMP-"]), st.integers(0, 99_999)) | st.integers(
    0, 10**6
)
"""Employee ids: text like ``E001`` or whole numbers."""


@st.composite
def sales_row(draw: st.DrawFn, employee_id: object = None, *, valid: bool = True) -> dict[str, Any]:
    """One row for ``examples/sales-quarterly.yaml``; with ``valid=False`` a cell may be bad.

    Values come in the spellings rows really have: Decimals, ints, floats, text, ``"92%"``.
    """
    row: dict[str, Any] = {"employee_id": draw(employee_ids) if employee_id is None else employee_id}
    money = st.integers(0, 3_000_000).map(Decimal) | fixed_point(0, 300_000_000, 2)
    row["sales"] = spell(draw, draw(money))
    row["sales_target"] = spell(draw, draw(st.just(Decimal(0)) | money))
    row["csat"] = spell(draw, draw(fixed_point(100, 500, 2)))
    rate = fixed_point(0, 15_000, 4) | st.sampled_from([Decimal("0.8"), Decimal("0.7999")])
    row["collection_rate"] = spell(draw, draw(rate), percent=True)
    row["attitude"] = spell(draw, Decimal(draw(st.integers(1, 5))))
    incidents = draw(st.sampled_from(["absent", "none", "empty", "value"]))
    if incidents == "none":
        row["major_incidents"] = None
    elif incidents == "empty":
        row["major_incidents"] = ""
    elif incidents == "value":
        row["major_incidents"] = spell(draw, Decimal(draw(st.integers(0, 6))))
    if draw(st.booleans()):
        row["department"] = draw(st.sampled_from(["华东", "华北", "West"]))
    if draw(st.booleans()):
        row["name"] = draw(free_text)
    if draw(st.booleans()):
        row["tags"] = draw(st.lists(slugs, max_size=2))
    if not valid and draw(st.booleans()):
        column, bad = draw(
            st.sampled_from(
                [("csat", Decimal("5.5")), ("attitude", 0), ("sales", "lots"), ("collection_rate", -1), ("sales", None)]
            )
        )
        row[column] = bad
    return row


@st.composite
def sales_rows(draw: st.DrawFn, *, min_size: int = 0, max_size: int = 8, valid: bool = True) -> list[dict[str, Any]]:
    """Rows for the sales example with distinct employee ids (as text)."""
    ids = draw(st.lists(employee_ids, min_size=min_size, max_size=max_size, unique_by=str))
    return [draw(sales_row(employee_id, valid=valid)) for employee_id in ids]
