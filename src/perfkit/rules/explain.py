"""Explanations: the frozen trace of how one score card came about.

Printable as text (``str(explanation)``), serialisable as JSON (:meth:`Explanation.to_json`).
An explanation is computed by the same engine function as the card, with formulas walked
step by step, so its values are the card's values.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from perfkit.numbers import plain_text, shift
from perfkit.rules.formula import Step, Value

if TYPE_CHECKING:
    from perfkit.rules.engine import CompiledKPI, CompiledRule, CompiledScheme
    from perfkit.rules.scorecard import ScoreCard

__all__ = ["Explanation", "KpiTrace", "RuleTrace", "TotalTrace"]


@attrs.frozen
class KpiTrace:
    id: str
    name: str | None
    formula: str
    inputs: tuple[tuple[str, Decimal], ...]
    """The values the formula read."""
    steps: tuple[Step, ...]
    """Every intermediate result, in evaluation order (the last is the whole formula)."""
    raw: Decimal
    score: Decimal
    """``raw`` rounded at the KPI rounding point."""
    weight: Decimal
    weighted: Decimal
    """``score × weight``: this KPI's part of a weighted-sum total."""

    @classmethod
    def of(cls, kpi: CompiledKPI, raw: Decimal, score: Decimal, trace: tuple[Value, tuple[Step, ...]]) -> KpiTrace:
        return cls(kpi.id, kpi.name, kpi.formula.text, (), trace[1], raw, score, kpi.weight, score * kpi.weight)


@attrs.frozen
class TotalTrace:
    formula: str | None
    """The scheme's total formula, or None for the weighted sum of KPI scores."""
    steps: tuple[Step, ...]
    raw: Decimal
    total: Decimal


@attrs.frozen
class RuleTrace:
    id: str
    when: str
    fired: bool
    steps: tuple[Step, ...]
    cap_grade: str | None
    floor_grade: str | None
    flag: str | None
    reason: str | None
    effect: str = ""
    """What the rule changed on this card (``band grade A is above B; final grade B``)."""

    @classmethod
    def of(cls, rule: CompiledRule, trace: tuple[Value, tuple[Step, ...]]) -> RuleTrace:
        return cls(
            rule.id, rule.when.text, bool(trace[0]), trace[1], rule.cap_grade, rule.floor_grade, rule.flag, rule.reason
        )

    @property
    def action(self) -> str:
        actions = []
        if self.cap_grade:
            actions.append(f"cap grade at {self.cap_grade}")
        if self.floor_grade:
            actions.append(f"floor grade at {self.floor_grade}")
        if self.flag:
            actions.append(f"flag {self.flag}")
        return ", ".join(actions)


@attrs.frozen
class Explanation:
    """How one employee's score card was computed, step by step."""

    scheme_id: str
    scheme_version: str | None
    employee_id: str
    inputs: tuple[tuple[str, Decimal], ...]
    kpis: tuple[KpiTrace, ...]
    total: TotalTrace
    rounding: str
    band_grade: str
    band_min_score: Decimal | None
    rules: tuple[RuleTrace, ...]
    grade: str
    multiplier: Decimal | None
    flags: tuple[str, ...]

    @classmethod
    def build(cls, scheme: CompiledScheme, card: ScoreCard, traces: dict[str, Any]) -> Explanation:
        inputs = dict(card.inputs)
        kpis = []
        for kpi in scheme.kpis:
            trace: KpiTrace = traces[kpi.id]
            used = tuple((name, inputs[name]) for name in kpi.formula.names)
            kpis.append(attrs.evolve(trace, inputs=used))
        rules = tuple(_with_effect(traces[f"rule:{r.id}"], card, scheme) for r in scheme.rules)
        rounding = scheme.rounding
        return cls(
            scheme_id=scheme.id,
            scheme_version=scheme.version,
            employee_id=card.employee_id,
            inputs=card.inputs,
            kpis=tuple(kpis),
            total=traces["total"],
            rounding=f"KPI scores to {rounding.kpi} places, total to {rounding.total} places, {rounding.mode.value}",
            band_grade=card.band_grade,
            band_min_score=scheme.scale.grade(card.band_grade).min_score,
            rules=rules,
            grade=card.grade,
            multiplier=card.multiplier,
            flags=card.flags,
        )

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self) -> str:
        """A readable, plain-text account (no colour codes)."""
        version = f" v{self.scheme_version}" if self.scheme_version else ""
        out = [f"employee {self.employee_id} · scheme {self.scheme_id}{version}"]
        out.append("inputs: " + ", ".join(f"{k} = {v}" for k, v in self.inputs))
        out.append(f"rounding: {self.rounding}")
        for kpi in self.kpis:
            label = f"{kpi.id} ({kpi.name})" if kpi.name else kpi.id
            out.append(f"KPI {label}, weight {_percent(kpi.weight)}")
            out.append(f"  score = {kpi.formula}")
            if kpi.inputs:
                out.append("  with " + ", ".join(f"{k} = {v}" for k, v in kpi.inputs))
            for step in kpi.steps[:-1]:
                out.append(f"  {step.text} = {_show(step.value)}")
            weighted = f"; × {_percent(kpi.weight)} = {kpi.weighted}" if self.total.formula is None else ""
            out.append(f"  raw {kpi.raw} → rounded {kpi.score}{weighted}")
        if self.total.formula is None:
            parts = " + ".join(f"{k.weighted}" for k in self.kpis)
            out.append(f"total = weighted sum = {parts} = {self.total.raw} → {self.total.total}")
        else:
            out.append(f"total = {self.total.formula}")
            for step in self.total.steps[:-1]:
                out.append(f"  {step.text} = {_show(step.value)}")
            out.append(f"  raw {self.total.raw} → rounded {self.total.total}")
        band = "" if self.band_min_score is None else f" (total {self.total.total} ≥ {self.band_min_score})"
        out.append(f"band grade: {self.band_grade}{band}")
        for rule in self.rules:
            status = "fired" if rule.fired else "did not fire"
            out.append(f"rule {rule.id}: when {rule.when} → {status}")
            for step in rule.steps[:-1]:
                out.append(f"  {step.text} = {_show(step.value)}")
            if rule.fired:
                out.append(f"  {rule.action}: {rule.effect}")
                if rule.reason:
                    out.append(f"  reason: {rule.reason}")
        multiplier = "" if self.multiplier is None else f", multiplier {self.multiplier}"
        out.append(f"final grade: {self.grade}{multiplier}")
        if self.flags:
            out.append("flags: " + ", ".join(self.flags))
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        """Plain data; decimals stay Decimal (see :meth:`to_json` for text)."""
        return attrs.asdict(self, recurse=True, value_serializer=_serialize)

    def to_json(self) -> str:
        """JSON with decimals as strings, so they stay exact."""
        return json.dumps(self.to_dict(), default=str, ensure_ascii=False, indent=2)


def _serialize(instance: Any, field: Any, value: Any) -> Any:
    if isinstance(value, Step):
        return {"text": value.text, "value": value.value}
    return value


def _with_effect(trace: RuleTrace, card: ScoreCard, scheme: CompiledScheme) -> RuleTrace:
    if not trace.fired:
        return trace
    scale = scheme.scale
    band = card.band_grade
    effects = []
    if trace.cap_grade:
        if scale.rank(band) < scale.rank(trace.cap_grade):
            effects.append(f"band grade {band} is above {trace.cap_grade}; final grade {card.grade}")
        else:
            effects.append(f"band grade {band} is already at or below {trace.cap_grade}; no change")
    if trace.floor_grade:
        if scale.rank(band) > scale.rank(trace.floor_grade):
            effects.append(f"band grade {band} is below {trace.floor_grade}; final grade {card.grade}")
        else:
            effects.append(f"band grade {band} is already at or above {trace.floor_grade}; no change")
    if trace.flag:
        effects.append(f"flag {trace.flag} set")
    return attrs.evolve(trace, effect="; ".join(effects))


def _percent(weight: Decimal) -> str:
    return f"{plain_text(shift(weight, 2))}%"


def _show(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
