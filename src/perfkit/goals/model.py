"""Goal declarations: what a goal file says, read from YAML or JSON (pydantic, frozen).

A goal file says which format version it is and lists goals::

    perfkit_goals: 1
    calendar: {tz: Asia/Shanghai}
    goals:
      - id: revenue-2026
        title: 全年收入 5000 万
        owner: org
        period: "2026"
        progress: children
        rollup: sum
        target: 50000000
        unit: CNY
      - id: east-revenue
        title: 华东区收入
        kind: key_result
        owner: team:east
        period: "2026"
        target: 21430000
        contributes_to: [revenue-2026]
        checkin: {every: 2 weeks}
        checkins:
          - {at: 2026-03-01, value: 4100000, note: Q1 close}

Each field is described on :class:`Goal`; ``docs/goals.md`` walks through them. These are
declarations: nothing here looks at other goals. :class:`~perfkit.goals.GoalGraph` checks
a set of goals as a whole (unknown parents, cycles, periods, weights) and computes.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

import attrs
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)

from perfkit.numbers import plain_text, shift, to_decimal
from perfkit.scheme import FormulaText, Identifier, Label, Weight, format_weight

__all__ = [
    "CheckIn",
    "CheckinSchedule",
    "Contribution",
    "Goal",
    "GoalFile",
    "GoalKind",
    "Owner",
    "ProgressMode",
    "Revision",
    "RollupMethod",
    "Status",
]

FORMAT_VERSION = 1

GoalKind = Literal["objective", "key_result", "kpi"]
Status = Literal["draft", "active", "closed", "archived"]
"""A goal's declared status. ``expired`` is not declared: an ``active`` goal is expired on
any date past its period's end (see :attr:`perfkit.goals.GoalProgress.status`)."""
ProgressMode = Literal["checkins", "metric", "children"]
RollupMethod = Literal["weighted_average", "sum", "min", "formula"]
Direction = Literal["increase", "decrease"]
Curve = Literal["linear", "binary"]
ApprovalState = Literal["proposed", "approved", "rejected"]

GoalId = Annotated[str, Field(pattern=r"^\w[\w.\-/]*$", max_length=100)]
"""A goal id: letters (any script), digits, ``_ . - /``, starting with a letter or digit."""


def _number(value: Any) -> Any:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true/false")
    try:
        return to_decimal(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def _percent_or_number(value: Any) -> Any:
    """``120%`` or ``1.2``."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return shift(_number(value.strip()[:-1].strip()), -2)
    return _number(value)


def _format_percent(value: Decimal | None) -> str | None:
    return None if value is None else format_weight(value)


_NUMBER_SCHEMA: dict[str, Any] = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*[-+]?[0-9.,_]+\s*$"}]}
Number = Annotated[
    Decimal,
    BeforeValidator(_number),
    PlainSerializer(plain_text, return_type=str, when_used="json"),
    WithJsonSchema(_NUMBER_SCHEMA),
]
Cap = Annotated[
    Decimal | None,
    BeforeValidator(_percent_or_number),
    PlainSerializer(_format_percent, return_type=str | None),
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*[0-9.]+\s*%\s*$"}, {"type": "null"}]}
    ),
]


def _instant(value: Any) -> Any:
    """A date, an aware datetime, or ISO text for either (``2026-03-01``, ``2026-03-01T10:00+08:00``)."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.date.fromisoformat(text)
        from perfkit._time import parse_datetime

        try:
            value = parse_datetime(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date (2026-03-01) or a time (2026-03-01T10:00+08:00)") from None
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no time zone; add one (+08:00) or give a date")
    return value


def parse_instant(value: object) -> datetime.date | datetime.datetime:
    """A date, an aware datetime, or ISO text for either; ValueError otherwise."""
    parsed = _instant(value)
    if not isinstance(parsed, datetime.date):
        raise ValueError(f"{value!r} is not a date (2026-03-01) or a time (2026-03-01T10:00+08:00)")
    return parsed


def _iso(value: datetime.date | datetime.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


Instant = Annotated[
    datetime.datetime | datetime.date, BeforeValidator(_instant), PlainSerializer(_iso, return_type=str)
]
"""When something happened: a date (the whole day, in the file's calendar) or an aware time."""
Day = Annotated[datetime.date, BeforeValidator(_instant), PlainSerializer(_iso, return_type=str)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


@attrs.frozen
class Owner:
    """Who owns a goal: a ``person`` (employee id), a ``team`` (org unit id) or the ``org``.

    Written ``person:1001``, ``team:east`` or ``org`` in a goal file.
    """

    kind: Literal["person", "team", "org"]
    id: str | None = None

    def __str__(self) -> str:
        return "org" if self.kind == "org" else f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, value: Any) -> Owner:
        if isinstance(value, Owner):
            return value
        if isinstance(value, dict) and len(value) == 1:
            ((kind, ident),) = value.items()
            value = f"{kind}:{ident}"
        if not isinstance(value, str):
            raise ValueError("an owner is written person:<employee id>, team:<unit id> or org")
        text = value.strip()
        if text == "org":
            return cls("org")
        kind, sep, ident = text.partition(":")
        if sep and kind.strip() in ("person", "team") and ident.strip():
            return cls(kind.strip(), ident.strip())  # type: ignore[arg-type]
        raise ValueError(f"{text!r} is not an owner; write person:<employee id>, team:<unit id> or org")


OwnerField = Annotated[
    Owner,
    PlainValidator(Owner.parse),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": "^(org|person:.+|team:.+)$"}),
]


class Contribution(_Model):
    """An edge to a parent goal that this goal's progress feeds (``contributes``).

    ``weight`` is this goal's weight under that parent (``40%``); under one parent either
    every contributing child has a weight and they sum to exactly 100%, or none has and
    they count equally.
    """

    goal: GoalId
    weight: Weight | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"goal": value} if isinstance(value, str) else value


def _every(value: Any) -> Any:
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*(d|days?|w|weeks?|m|months?)\s*", value)
        if not match:
            raise ValueError(f"{value!r} is not a cadence; write '2 weeks', '14 days' or '1 month'")
        count, unit = int(match[1]), match[2][0]
        if count <= 0:
            raise ValueError("a cadence is at least 1 day")
        return (count * 7, "days") if unit == "w" else (count, "days" if unit == "d" else "months")
    return value


def _format_every(value: tuple[int, str]) -> str:
    count, unit = value
    if unit == "days" and count % 7 == 0:
        weeks = count // 7
        return f"{weeks} week" if weeks == 1 else f"{weeks} weeks"
    return f"{count} {unit[:-1]}" if count == 1 else f"{count} {unit}"


Every = Annotated[
    tuple[int, Literal["days", "months"]],
    BeforeValidator(_every),
    PlainSerializer(_format_every),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d+\s*(d|days?|w|weeks?|m|months?)\s*$"}),
]


class CheckinSchedule(_Model):
    """When check-ins are due: every ``every`` from ``start`` (default: the period's start).

    A check-in is due at the end of each cadence step; it is *on time* when it comes in
    within ``grace_days`` after that, *overdue* afterwards. A goal is *due soon* within
    ``due_soon_days`` before a due date, and *stale* when its last check-in (or its start)
    is more than ``stale_after_days`` old (default: twice the cadence, in days).
    """

    every: Every
    start: Day | None = None
    grace_days: Annotated[int, Field(ge=0)] = 0
    due_soon_days: Annotated[int, Field(ge=0)] = 3
    stale_after_days: Annotated[int, Field(ge=1)] | None = None


class CheckIn(_Model):
    """A progress update: the value at a time, with an optional note and author."""

    at: Instant
    value: Number
    note: str | None = None
    by: str | None = None


class Revision(_Model):
    """A change to a goal's target (and optionally its baseline) from ``effective`` on.

    A revision applies on a date only when it is ``approved``, it is effective by then and
    it was decided by then (``decided_at``; when absent, the effective date stands in).
    ``proposed`` and ``rejected`` revisions are kept for the history and never apply.
    """

    effective: Instant
    target: Number
    baseline: Number | None = None
    reason: Annotated[str, Field(min_length=1)]
    proposed_by: Annotated[str, Field(min_length=1)]
    state: ApprovalState = "proposed"
    decided_by: str | None = None
    decided_at: Instant | None = None

    @model_validator(mode="after")
    def _decision(self) -> Revision:
        if self.state == "proposed" and (self.decided_by or self.decided_at):
            raise ValueError("a proposed revision has not been decided: drop decided_by/decided_at or set state")
        if self.state != "proposed" and not self.decided_by:
            raise ValueError(f"an {self.state} revision names who decided it (decided_by)")
        return self


class Goal(_Model):
    """One goal: an objective, a key result or a KPI.

    **Progress** (``progress``) comes from check-ins (``checkins``), from a metric
    (``metric``, see :func:`perfkit.goals.metric_values`) or from the children that
    contribute to it (``children``, combined by ``rollup``). Objectives default to
    ``children``, key results and KPIs to ``checkins`` (``metric`` when a metric is named).

    A goal measured against a number has a ``target``, a ``baseline`` (default 0) and a
    ``direction``. Its attainment is ``(value - baseline) / (target - baseline)`` (mirrored
    for ``decrease``), put through the ``curve``: ``linear`` keeps it between 0 and ``cap``
    (default 100%; ``cap: null`` for none), ``binary`` gives 100% once the target is met.
    """

    id: GoalId
    title: Annotated[str, Field(min_length=1)]
    kind: GoalKind = "objective"
    owner: OwnerField
    period: Label
    """A period label read with the file's calendar: ``2026``, ``2026-Q2``, ``FY2027-H1``,
    ``2026-03-01..2026-05-31``."""
    status: Status = "active"
    progress: ProgressMode | None = None
    rollup: RollupMethod = "weighted_average"
    formula: FormulaText | None = None
    """For ``rollup: formula``: a formula over the ids of the contributing children, each
    read as that child's progress (``min(kr_a, kr_b) * 0.5 + kr_c * 0.5``)."""
    target: Number | None = None
    baseline: Number = Decimal(0)
    direction: Direction = "increase"
    curve: Curve = "linear"
    cap: Cap = Decimal(1)
    unit: str | None = None
    metric: Identifier | None = None
    contributes_to: tuple[
        Annotated[
            Contribution,
            WithJsonSchema(
                {
                    "anyOf": [
                        {"type": "string", "description": "the parent's id"},
                        {
                            "type": "object",
                            "properties": {
                                "goal": {"type": "string"},
                                "weight": {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]},
                            },
                            "required": ["goal"],
                            "additionalProperties": False,
                        },
                    ]
                }
            ),
        ],
        ...,
    ] = ()
    supports: tuple[GoalId, ...] = ()
    """Goals this one aligns with without feeding their progress."""
    checkin: CheckinSchedule | None = None
    checkins: tuple[CheckIn, ...] = ()
    revisions: tuple[Revision, ...] = ()
    created: Day | None = None
    """When the goal was set; revisions may not predate it (default: its period's start)."""
    description: str | None = None

    @property
    def mode(self) -> ProgressMode:
        """The progress mode, with the default for the goal's kind filled in."""
        if self.progress is not None:
            return self.progress
        if self.kind == "objective":
            return "children"
        return "metric" if self.metric is not None else "checkins"

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(c.goal for c in self.contributes_to)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as written in a goal file (fields left at their defaults are omitted)."""
        data: dict[str, Any] = self.model_dump(mode="python", exclude_defaults=True)
        return data


def _goals_list(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class CalendarSpec(_Model):
    """The calendar periods and dates are read in: a time zone and the fiscal year's first month."""

    tz: str = "UTC"
    fiscal_year_start: Annotated[int, Field(ge=1, le=12)] = 1


class GoalFile(_Model):
    """A goal file (format version 1): a calendar and a list of goals."""

    perfkit_goals: Literal[1]
    calendar: CalendarSpec = CalendarSpec()
    goals: Annotated[tuple[Goal, ...], BeforeValidator(_goals_list)] = ()

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the goal-file format (also ``perfkit goals schema``)."""
        schema = cls.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = "perfkit goal file (format version 1)"
        return schema
