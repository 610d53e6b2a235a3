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
    source: str | None = None
    """The file the KPI came from, when the scheme ``extends`` others."""

    @classmethod
    def of(cls, kpi: CompiledKPI, raw: Decimal, score: Decimal, trace: tuple[Value, tuple[Step, ...]]) -> KpiTrace:
        return cls(
            kpi.id, kpi.name, kpi.formula.text, (), trace[1], raw, score, kpi.weight, score * kpi.weight, kpi.source
        )


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
    when: str | None
    """The condition, or None for a rule that always fires."""
    fired: bool
    """The condition held (and, for points, no ``unless`` blocked them)."""
    steps: tuple[Step, ...]
    """The values the rule's formulas gave (condition, ``unless``, points amount)."""
    action: str
    reason: str | None
    phase: str
    """``points`` (before banding) or ``grade`` (after banding)."""
    effect: str = ""
    """What the rule changed on this card, before → after (``grade A → B``)."""
    source: str | None = None
    """The file the rule came from, when the scheme ``extends`` others."""

    @classmethod
    def of(cls, rule: CompiledRule, fired: bool, steps: tuple[Step, ...]) -> RuleTrace:
        phase = "points" if rule.is_points else "grade"
        when = rule.when.text if rule.when else None
        return cls(rule.id, when, fired, steps, rule.describe(), rule.reason, phase, source=rule.source)


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
    banded_total: Decimal
    """The total the band grade comes from: the base total plus points, rounded."""
    final_total: Decimal
    """The card's total: the banded total, or 0 after a ``zero_total`` veto."""
    grade: str
    multiplier: Decimal | None
    flags: tuple[str, ...]
    ineligible: tuple[str, ...]
    alerts: tuple[str, ...]
    """``severity: message`` of each alert raised."""
    review_required: bool

    @classmethod
    def build(cls, scheme: CompiledScheme, card: ScoreCard, traces: dict[str, Any]) -> Explanation:
        inputs = dict(card.inputs)
        kpis = []
        for kpi in scheme.kpis:
            trace: KpiTrace = traces[kpi.id]
            used = tuple((name, inputs[name]) for name in kpi.formula.names)
            kpis.append(attrs.evolve(trace, inputs=used))
        effects: dict[str, list[str]] = traces.get("effects") or {}
        rules = tuple(_with_effect(traces[f"rule:{r.id}"], effects) for r in scheme.rules)
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
            banded_total=traces["banded_total"],
            final_total=card.total,
            grade=card.grade,
            multiplier=card.multiplier,
            flags=card.flags,
            ineligible=card.ineligible,
            alerts=tuple(f"{a.severity}: {a.message}" for a in card.alerts),
            review_required=card.review_required,
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
            origin = f" (from {kpi.source})" if kpi.source else ""
            out.append(f"KPI {label}, weight {_percent(kpi.weight)}{origin}")
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
        points = [rule for rule in self.rules if rule.phase == "points"]
        for rule in points:
            out.extend(_rule_lines(rule))
        if points:
            out.append(f"total after points: {self.banded_total}")
        band = "" if self.band_min_score is None else f" (total {self.banded_total} ≥ {self.band_min_score})"
        out.append(f"band grade: {self.band_grade}{band}")
        for rule in self.rules:
            if rule.phase != "points":
                out.extend(_rule_lines(rule))
        multiplier = "" if self.multiplier is None else f", multiplier {self.multiplier}"
        out.append(f"final total: {self.final_total}; final grade: {self.grade}{multiplier}")
        if self.flags:
            out.append("flags: " + ", ".join(self.flags))
        if self.ineligible:
            out.append("not eligible for: " + ", ".join(self.ineligible))
        for alert in self.alerts:
            out.append(f"alert {alert}")
        if self.review_required:
            out.append("calibration must review this person")
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


def _rule_lines(rule: RuleTrace) -> list[str]:
    status = "fired" if rule.fired else "did not fire"
    condition = f"when {rule.when}" if rule.when else "always"
    origin = f" (from {rule.source})" if rule.source else ""
    lines = [f"rule {rule.id}{origin}: {condition} → {status}"]
    lines.extend(f"  {step.text} = {_show(step.value)}" for step in rule.steps if step.text != rule.when)
    if rule.fired or rule.effect:
        lines.append(f"  {rule.action}: {rule.effect}" if rule.effect else f"  {rule.action}")
    if rule.fired and rule.reason:
        lines.append(f"  reason: {rule.reason}")
    return lines


def _with_effect(trace: RuleTrace, effects: dict[str, list[str]]) -> RuleTrace:
    if not trace.fired or trace.id not in effects:
        return trace
    return attrs.evolve(trace, effect="; ".join(filter(None, [trace.effect, *effects[trace.id]])))


def _percent(weight: Decimal) -> str:
    return f"{plain_text(shift(weight, 2))}%"


def _show(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
