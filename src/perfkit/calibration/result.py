"""What a calibration meeting decides and finalises: decisions, and the immutable result."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import attrs

from perfkit.audit import AuditLog
from perfkit.calibration.allocation import Limit, PoolResult, grade_counts
from perfkit.errors import AuditError, CalibrationError
from perfkit.scheme import Calibration

__all__ = ["BoundaryCase", "CalibratedGrade", "CalibrationResult", "Override"]


@attrs.frozen(kw_only=True)
class Override:
    """A grade the meeting decided for one person: by an override or by resolving a tie."""

    employee_id: str
    grade: str
    previous: str
    """The person's grade just before this decision."""
    reason_code: str
    comment: str
    authorised_by: str
    exception: bool = False
    """Authorised as an exception to the person's limits (needed to go past one)."""
    past_limits: tuple[Limit, ...] = ()
    """The rule limits (cap, floor, veto) this decision goes past."""
    kind: Literal["override", "tie"] = "override"

    def describe(self) -> str:
        """``E004 B → A: 业绩超预期 (authorised by 王总; exception past at best B (collection-cap))``."""
        what = f"tie resolved, {self.reason_code}" if self.kind == "tie" else self.reason_code
        extra = ""
        if self.exception:
            past = ", ".join(limit.describe() for limit in self.past_limits)
            extra = f"; exception past {past}" if past else "; exception"
        return f"{self.employee_id} {self.previous} → {self.grade}: {what} (authorised by {self.authorised_by}{extra})"


@attrs.frozen(kw_only=True)
class BoundaryCase:
    """Someone the meeting should look at: near a band edge or quota cut, or flagged for review."""

    employee_id: str
    pool: str
    total: Decimal
    proposed: str
    reasons: tuple[str, ...]


@attrs.frozen(kw_only=True)
class CalibratedGrade:
    """One person's grades through the calibration, and the decision that set the last one."""

    employee_id: str
    pool: str
    total: Decimal
    rule_grade: str
    """The grade the scheme gave (bands, then rules): before calibration."""
    proposed: str
    """The grade the policy proposed when the meeting started."""
    final: str
    override: Override | None = None

    @property
    def moved(self) -> bool:
        """Whether the final grade differs from the proposal."""
        return self.final != self.proposed


@attrs.frozen(kw_only=True)
class CalibrationResult:
    """A finalised calibration: every person's grades, the policy, and the log that proves it.

    Keep :attr:`head` somewhere else as well; :meth:`verify` checks the log still ends there.
    """

    scheme_id: str
    scheme_version: str | None
    policy: Calibration = attrs.field(repr=False, hash=False)
    """The policy's declaration, as it was applied."""
    grade_names: tuple[str, ...] = attrs.field(repr=False)
    people: tuple[CalibratedGrade, ...] = attrs.field(repr=False)
    pools: tuple[PoolResult, ...] = attrs.field(repr=False)
    """Each pool's quota status for the final grades."""
    warnings: tuple[str, ...]
    """Quotas not met and ties left open (only under ``enforcement: warn``)."""
    finalised_by: str
    finalised_at: datetime
    head: str
    """The hash of the finalise event: the last event of :attr:`log`."""
    log: AuditLog = attrs.field(repr=False)

    def __iter__(self) -> Iterator[CalibratedGrade]:
        return iter(self.people)

    def __len__(self) -> int:
        return len(self.people)

    def __getitem__(self, employee_id: str) -> CalibratedGrade:
        for person in self.people:
            if person.employee_id == employee_id:
                return person
        raise CalibrationError("is not in this calibration result", employee_id=employee_id)

    def grades(self) -> dict[str, str]:
        """Employee id → final grade."""
        return {p.employee_id: p.final for p in self.people}

    @property
    def overrides(self) -> tuple[Override, ...]:
        return tuple(p.override for p in self.people if p.override is not None)

    def distribution(self, which: Literal["rule", "proposed", "final"] = "final") -> dict[str, int]:
        """Head count per grade (best first): before calibration, as proposed, or final."""
        return grade_counts((getattr(p, "rule_grade" if which == "rule" else which) for p in self.people), self.grade_names)

    def verify(self) -> None:
        """Check the log: its chain, that it ends at :attr:`head`, and that it records these grades.

        Raises :class:`AuditError` when the log was edited, cut short or extended, or when the
        grades here differ from the ones its finalise event records.
        """
        self.log.verify(expected_head=self.head)
        last = self.log[-1]
        if last.kind != "finalise":
            raise AuditError("the log does not end with the finalise event", seq=last.seq)
        recorded = last.data.get("grades")
        if not isinstance(recorded, Mapping) or dict(recorded) != self.grades():
            raise AuditError("the grades of this result are not the ones the finalise event records", seq=last.seq)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per person: grades before, proposed and final, and the decision (numbers as text)."""
        records = []
        for p in self.people:
            o = p.override
            records.append(
                {
                    "employee_id": p.employee_id,
                    "pool": p.pool,
                    "total": str(p.total),
                    "rule_grade": p.rule_grade,
                    "proposed": p.proposed,
                    "final": p.final,
                    "decision": None if o is None else o.kind,
                    "reason_code": None if o is None else o.reason_code,
                    "comment": None if o is None else o.comment,
                    "authorised_by": None if o is None else o.authorised_by,
                    "exception": False if o is None else o.exception,
                }
            )
        return records

    def to_text(self) -> str:
        """The head counts per grade before, as proposed and final, per pool and overall, with decisions."""
        version = f" v{self.scheme_version}" if self.scheme_version else ""
        lines = [
            f"calibration of {self.scheme_id}{version}, finalised by {self.finalised_by} at {self.finalised_at.isoformat()}",
            f"head {self.head}",
        ]
        groups: list[tuple[str, list[CalibratedGrade], PoolResult | None]] = [
            (pool.key, [p for p in self.people if p.pool == pool.key], pool) for pool in self.pools
        ]
        if len(groups) > 1:
            groups.append(("(all)", list(self.people), None))
        for key, people, pool in groups:
            lines.append(f"pool {key}: {len(people)} people")
            lines.append("  grade     " + "".join(f"{n:>6}" for n in self.grade_names))
            for label, attr in (("before", "rule_grade"), ("proposed", "proposed"), ("final", "final")):
                counts = grade_counts((getattr(p, attr) for p in people), self.grade_names)
                lines.append(f"  {label:<9} " + "".join(f"{counts[n]:>6}" for n in self.grade_names))
            if pool is not None:
                lines.extend(f"  {q.describe()}" for q in pool.quotas)
        if self.overrides:
            lines.append("decisions:")
            lines.extend(f"  {o.describe()}" for o in self.overrides)
        if self.warnings:
            lines.append("warnings:")
            lines.extend(f"  {w}" for w in self.warnings)
        return "\n".join(lines)
