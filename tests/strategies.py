"""Shared hypothesis strategies for perfkit's property tests.

Everything here builds *plain data* the way a user writes it (decimals, weight spellings,
scheme dicts, rows, formula text); the tests push it through perfkit's public entry points.
Decimals are built exactly from integers (:func:`exact`), never through float or through a
decimal context, so a strategy never rounds what it claims to generate.
"""

from __future__ import annotations

import keyword
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from perfkit.numbers import RoundingMode
from perfkit.rules.functions import FUNCTIONS

__all__ = [
    "NAMES",
    "condition_formulas",
    "decimal_values",
    "decimals_near_ties",
    "environments",
    "exact",
    "formulas",
    "literal",
    "number_formulas",
    "piecewise_points",
    "sales_row",
    "sales_rows",
    "scheme_dicts",
    "spelled",
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


decimal_values = st.one_of(
    st.sampled_from([Decimal(0), Decimal(1), Decimal(-1), Decimal("0.5"), Decimal(100), Decimal("-0.001")]),
    st.decimals(min_value=-10_000, max_value=10_000, places=3),
    st.integers(-(10**30), 10**30).map(Decimal),
    st.integers(-(10**6), 10**6).map(lambda n: exact(n, 30)),
)
"""Decimals for formula environments: zeros, small, long (30 digits) and tiny values."""


def spelled(value: Decimal, *, percent: bool = False) -> st.SearchStrategy[object]:
    """The ways a user may hand perfkit ``value``: Decimal, text, int, float (when exact)."""
    options: list[object] = [value, format(value, "f"), str(value)]
    if value == value.to_integral_value():
        options.append(int(value))
    if float_exact(value):
        options.append(float(value))
    if percent:
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        options.append(format(Decimal((sign, digits, exponent + 2)), "f") + "%")
    return st.sampled_from(options)


# -- weights ----------------------------------------------------------------------------------


def _units(draw: st.DrawFn, places: int, size: int, sums_to_one: bool) -> list[int]:
    whole = 10**places
    if sums_to_one:
        cuts = sorted(draw(st.lists(st.integers(0, whole), min_size=size - 1, max_size=size - 1)))
        edges = [0, *cuts, whole]
        return [right - left for left, right in zip(edges, edges[1:])]
    return draw(st.lists(st.integers(0, whole), min_size=size, max_size=size).filter(lambda u: sum(u) != whole))


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
    precision of perfkit's decimal context), small ones more often.
    """
    places = draw(st.integers(1, min(4, max_places)) | st.integers(1, max_places))
    size = draw(st.integers(min_size, max_size))
    return places, _units(draw, places, size, sums_to_one)


@st.composite
def weight_lists(draw: st.DrawFn, **kwargs: Any) -> tuple[list[Decimal], list[object]]:
    """``(values, spellings)``: exact weights and how a scheme writes them.

    Spellings mix ``"NN.N%"`` text, fraction text (``"0.125"``), Decimals, ints and floats.
    """
    places, units = draw(weight_units(**kwargs))
    values = [exact(u, places) for u in units]
    spellings = [draw(spelled(v, percent=True)) for v in values]
    return values, spellings


# -- formulas ---------------------------------------------------------------------------------

NAMES = ("a", "b", "c")
"""The names generated formulas read (see :func:`environments`)."""

_LITERALS = st.one_of(
    st.integers(-3, 12).map(Decimal),
    st.decimals(min_value=-1000, max_value=1000, places=2),
    st.sampled_from([Decimal("0.5"), Decimal("0.001"), Decimal("0.1"), Decimal("1E+20"), Decimal("1E-20")]),
)
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


def _join(parts: Sequence[str]) -> str:
    return ", ".join(parts)


def _points(numbers: st.SearchStrategy[str], min_size: int) -> st.SearchStrategy[str]:
    """``(x1, y1), (x2, y2), ...`` with written-out, strictly increasing x's."""
    xs = st.lists(_LITERALS, min_size=min_size, max_size=4, unique=True).map(sorted)
    return xs.flatmap(
        lambda x: st.lists(numbers, min_size=len(x), max_size=len(x)).map(
            lambda ys: _join([f"({literal(xi)}, {yi})" for xi, yi in zip(x, ys)])
        )
    )


@lru_cache(maxsize=None)
def number_formulas(names: tuple[str, ...] = NAMES, depth: int = 3) -> st.SearchStrategy[str]:
    """Formula text that gives a number, over ``names``, nested up to ``depth``.

    Grammar: literals, names, ``+ - * /``, unary minus, ``min``/``max``/``abs``/``clamp``,
    ``round(x, n)``, ``piecewise``/``steps`` with increasing x's, ``ratio``, ``a if c else b``.
    """
    leaf = _LITERALS.map(literal) | st.sampled_from(names)
    if depth == 0:
        return leaf
    n = number_formulas(names, depth - 1)
    c = condition_formulas(names, depth - 1)
    return st.one_of(
        leaf,
        st.tuples(n, st.sampled_from("+-*/"), n).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        n.map(lambda x: f"(-{x})"),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(n, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({_join(t[1])})"
        ),
        n.map(lambda x: f"abs({x})"),
        st.tuples(n, n, n).map(lambda t: f"clamp({_join(t)})"),
        st.tuples(n, st.integers(0, 10)).map(lambda t: f"round({t[0]}, {t[1]})"),
        n.map(lambda x: f"round({x})"),
        st.tuples(n, _points(n, 2)).map(lambda t: f"piecewise({t[0]}, {t[1]})"),
        st.tuples(n, _points(n, 1), n).map(lambda t: f"steps({t[0]}, {t[1]}, default={t[2]})"),
        st.tuples(n, n, n).map(lambda t: f"ratio({t[0]}, {t[1]}, default={t[2]})"),
        st.tuples(n, c, n).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


@lru_cache(maxsize=None)
def condition_formulas(names: tuple[str, ...] = NAMES, depth: int = 3) -> st.SearchStrategy[str]:
    """Formula text that gives true or false: comparisons (chained too), ``and``/``or``/``not``."""
    n = number_formulas(names, max(depth - 1, 0))
    compare = st.tuples(n, st.lists(st.tuples(st.sampled_from(_COMPARISONS), n), min_size=1, max_size=2)).map(
        lambda t: "(" + t[0] + "".join(f" {op} {operand}" for op, operand in t[1]) + ")"
    )
    leaf = st.sampled_from(["True", "False"]) | compare
    if depth == 0:
        return leaf
    c = condition_formulas(names, depth - 1)
    return st.one_of(
        leaf,
        st.tuples(st.sampled_from(["and", "or"]), st.lists(c, min_size=2, max_size=3)).map(
            lambda t: "(" + f" {t[0]} ".join(t[1]) + ")"
        ),
        c.map(lambda x: f"(not {x})"),
    )


formulas = number_formulas().map(lambda t: ("number", t)) | condition_formulas().map(lambda t: ("condition", t))
"""``(kind, text)``: a random number or condition formula over :data:`NAMES`."""

environments = st.fixed_dictionaries({name: decimal_values for name in NAMES})
"""Decimal values for :data:`NAMES`."""


@st.composite
def piecewise_points(draw: st.DrawFn) -> list[tuple[Decimal, Decimal]]:
    """Points with strictly increasing x's and non-decreasing y's (a non-decreasing curve)."""
    values = st.decimals(min_value=-1000, max_value=1000, places=3)
    size = draw(st.integers(2, 6))
    xs = sorted(draw(st.lists(values, min_size=size, max_size=size, unique=True)))
    ys = sorted(draw(st.lists(values, min_size=size, max_size=size)))
    return list(zip(xs, ys))


# -- schemes ----------------------------------------------------------------------------------

_RESERVED = {"total", "employee_id", "True", "False", "None"}
identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and not keyword.issoftkeyword(s) and s not in _RESERVED and s not in FUNCTIONS
)
"""Names a formula can read: ASCII identifiers that are not keywords, functions or reserved."""
slugs = st.from_regex(r"[a-z0-9][a-z0-9._\-]{0,10}", fullmatch=True)
free_text = st.text(
    alphabet=st.sampled_from(list("abcXYZ 019:#-'\"%&*!|>{}[],?@`\n") + list("销售额考核回款率")), max_size=30
).map(str.strip)
"""Names, units, descriptions and reasons, with YAML-sensitive characters and CJK."""

scheme_numbers = st.one_of(
    st.integers(-1000, 1000).map(Decimal),
    st.decimals(min_value=-1000, max_value=1000, places=2),
    st.integers(0, 10**40).map(lambda n: exact(n, 20)),
    st.sampled_from([Decimal("1E+20"), Decimal("1E-7"), Decimal("123456789012345678")]),
)
"""Numbers a scheme writes: small, money-like, long and awkward (1E+20, 1E-7)."""

_GRADES = ("S", "A", "B", "C", "D", "优", "良", "Meets")


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@st.composite
def _input_spec(draw: st.DrawFn) -> dict[str, Any]:
    bounds = sorted(draw(st.lists(scheme_numbers, min_size=3, max_size=3)))
    low, default, high = bounds
    spec = {
        "unit": draw(_optional(free_text)),
        "min": draw(_optional(st.just(low))),
        "max": draw(_optional(st.just(high))),
        "default": draw(_optional(st.just(default))),
        "source": draw(_optional(free_text)),
        "description": draw(_optional(free_text)),
    }
    return _drop_none(spec)


@st.composite
def scheme_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A scheme as plain data (what a YAML/JSON file holds) that is meant to be valid.

    Formulas come from the formula grammar, so a few (a constant ``1/0``) do not compile;
    the caller rejects those. The worst grade leaves ``min_score`` out, so every total has a
    band.
    """
    input_names = draw(st.lists(identifiers, min_size=1, max_size=3, unique=True))
    kpi_ids = draw(
        st.lists(identifiers.filter(lambda s: s not in input_names), min_size=1, max_size=4, unique=True)
    )
    normalize = draw(st.booleans())
    places, units = draw(
        weight_units(sums_to_one=not normalize, min_size=len(kpi_ids), max_size=len(kpi_ids)).filter(
            lambda pu: any(pu[1])
        )
    )
    weights = [draw(spelled(exact(u, places), percent=True)) for u in units]

    inputs = {name: draw(_input_spec()) for name in input_names}
    names = tuple(input_names)
    kpis = [
        _drop_none(
            {
                "id": kpi_id,
                "name": draw(_optional(free_text)),
                "weight": weight,
                "score": draw(number_formulas(names, 1)),
                "description": draw(_optional(free_text)),
            }
        )
        for kpi_id, weight in zip(kpi_ids, weights)
    ]
    readable = (*input_names, *kpi_ids)
    grade_names = draw(st.lists(st.sampled_from(_GRADES), min_size=1, max_size=4, unique=True))
    scores = sorted(
        draw(st.lists(st.decimals(min_value=-100, max_value=200, places=2), min_size=len(grade_names) - 1,
                      max_size=len(grade_names) - 1, unique=True)),
        reverse=True,
    )
    grades = [
        _drop_none(
            {
                "grade": grade,
                "min_score": score,
                "multiplier": draw(_optional(st.decimals(min_value=0, max_value=3, places=2))),
                "description": draw(_optional(free_text)),
            }
        )
        for grade, score in zip(grade_names, [*scores, None])
    ]
    rules = []
    for rule_id in draw(st.lists(slugs, max_size=3, unique=True)):
        then = _drop_none(
            {
                "cap_grade": draw(_optional(st.sampled_from(grade_names))),
                "floor_grade": draw(_optional(st.sampled_from(grade_names))),
                "flag": draw(_optional(slugs)),
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
                    "reason": draw(_optional(free_text)),
                    "description": draw(_optional(free_text)),
                }
            )
        )
    calibration = None
    if draw(st.booleans()):
        shares = draw(weight_lists(max_size=len(grade_names), max_places=4))[1]
        calibration = _drop_none(
            {
                "group_by": draw(_optional(free_text | st.lists(free_text, max_size=3).map(tuple))),
                "distribution": draw(_optional(st.just(dict(zip(grade_names, shares))))),
            }
        )
    rounding = draw(
        _optional(
            st.fixed_dictionaries(
                {},
                optional={
                    "kpi": st.integers(0, 10),
                    "total": st.integers(0, 10),
                    "mode": st.sampled_from([m.value for m in RoundingMode]),
                },
            )
        )
    )
    data = {
        "perfkit": 1,
        "id": draw(slugs),
        "name": draw(_optional(free_text)),
        "version": draw(_optional(free_text | st.sampled_from(["2026.1", "1", "1.0", "yes", "null"]))),
        "period": draw(_optional(free_text | st.just("2026-Q2"))),
        "description": draw(_optional(free_text)),
        "inputs": inputs,
        "kpis": kpis,
        "total": draw(_optional(number_formulas(readable, 1))),
        "normalize_weights": normalize if normalize or draw(st.booleans()) else None,
        "rounding": rounding,
        "rules": rules or None,
        "grades": grades,
        "calibration": calibration,
    }
    return _drop_none(data)


# -- rows of the sales example ------------------------------------------------------------------

employee_ids = st.from_regex(r"[A-Z]{0,2}[0-9]{1,5}", fullmatch=True) | st.integers(0, 10**6)
"""Employee ids: text like ``E001`` or whole numbers."""


@st.composite
def sales_row(draw: st.DrawFn, employee_id: object = None, *, valid: bool = True) -> dict[str, Any]:
    """One row for ``examples/sales-quarterly.yaml``; with ``valid=False`` a cell may be bad.

    Values come in the spellings rows really have: Decimals, ints, floats, text, ``"92%"``.
    """
    row: dict[str, Any] = {"employee_id": draw(employee_ids) if employee_id is None else employee_id}
    money = st.integers(0, 3_000_000).map(Decimal) | st.decimals(min_value=0, max_value=3_000_000, places=2)
    row["sales"] = draw(money.flatmap(spelled))
    row["sales_target"] = draw((st.just(Decimal(0)) | money).flatmap(spelled))
    row["csat"] = draw(st.decimals(min_value=1, max_value=5, places=2).flatmap(spelled))
    row["collection_rate"] = draw(
        (st.decimals(min_value=0, max_value="1.5", places=4) | st.sampled_from([Decimal("0.8"), Decimal("0.7999")]))
        .flatmap(lambda v: spelled(v, percent=True))
    )
    row["attitude"] = draw(st.integers(1, 5).map(Decimal).flatmap(spelled))
    incidents = draw(st.sampled_from(["absent", "none", "empty", "value"]))
    if incidents == "none":
        row["major_incidents"] = None
    elif incidents == "empty":
        row["major_incidents"] = ""
    elif incidents == "value":
        row["major_incidents"] = draw(st.integers(0, 6).map(Decimal).flatmap(spelled))
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
