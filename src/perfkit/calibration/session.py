"""A calibration meeting: proposals, overrides, tie decisions, and a trail that replays.

A :class:`CalibrationSession` starts from an evaluation and a policy with the grades the
policy proposes (:func:`~perfkit.calibration.distribution.allocate`), the boundary cases,
the quota status per pool and the ties the policy escalated. Each action (an override, a
tie decision, a rebalance, the finalisation) returns a *new* session and appends one event
to a hash-chained :class:`~perfkit.audit.AuditLog`. The log's anchor is a SHA-256 of the
starting state, so :meth:`CalibrationSession.replay` can prove that a log belongs to these
inputs and rebuild the session from it, event by event. ``docs/calibration-sessions.md``
walks through a meeting.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from perfkit.audit import AuditLog, Event
from perfkit.calibration.allocation import Allocation, Limit, Placement, PoolResult, TieCut
from perfkit.calibration.distribution import allocate, quota_status
from perfkit.calibration.policy import Policy
from perfkit.calibration.result import BoundaryCase, CalibratedGrade, CalibrationResult, Override
from perfkit.calibration.scale import GradeScale
from perfkit.errors import AuditError, CalibrationError
from perfkit.numbers import to_decimal
from perfkit.org import Roster
from perfkit.rules.scorecard import Evaluation
from perfkit.scheme import Calibration

__all__ = ["CalibrationSession"]

PolicyLike = Policy | Calibration | Mapping[str, Any] | None
"""What a session starts from: a compiled policy, its declaration or mapping, or None (the scheme's)."""


class _Latch:
    """Set once, when a session is finalised: from then on it refuses every action."""

    __slots__ = ("result",)

    def __init__(self) -> None:
        self.result: CalibrationResult | None = None


@attrs.frozen(kw_only=True, repr=False)
class CalibrationSession:
    """A calibration meeting in progress; immutable, each action returns a new session.

    Start one with :meth:`start`, rebuild one from its log with :meth:`replay`. A session
    that has been finalised refuses further actions (it is the record of a closed meeting).
    """

    evaluation: Evaluation = attrs.field(eq=False)
    allocation: Allocation = attrs.field(eq=False)
    """The proposals the meeting started from (with each person's limits and pool)."""
    latest: Allocation = attrs.field(eq=False)
    """The allocation of the last :meth:`rebalance` (the starting one before any)."""
    roster: Roster | None = attrs.field(default=None, eq=False)
    scores: tuple[tuple[str, Decimal], ...] | None = attrs.field(default=None, eq=False)
    current: tuple[tuple[str, str], ...]
    """(employee id, grade) now, sorted by employee id; :meth:`grades` as a dict."""
    overrides: tuple[Override, ...] = ()
    """The decision in force for each person the meeting decided, sorted by employee id."""
    settled: tuple[TieCut, ...] = ()
    """Escalated ties the meeting resolved, as the policy would have recorded them."""
    log: AuditLog
    _latch: _Latch = attrs.field(init=False, factory=_Latch, eq=False)
    _grades: dict[str, str] = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_grades", dict(self.current))

    def __repr__(self) -> str:
        version = f" v{self.evaluation.scheme_version}" if self.evaluation.scheme_version else ""
        state = "finalised" if self.finalised else "open"
        return (
            f"<CalibrationSession {self.evaluation.scheme_id}{version}: {len(self.current)} people, "
            f"{len(self.overrides)} decided, {len(self.log)} events, head {self.log.head[:12]}, {state}>"
        )

    # -- starting and replaying --------------------------------------------------------------

    @classmethod
    def start(
        cls,
        evaluation: Evaluation,
        policy: PolicyLike = None,
        *,
        roster: Roster | None = None,
        scores: Mapping[str, Decimal] | None = None,
        actor: str | None = None,
        at: datetime | None = None,
    ) -> CalibrationSession:
        """Open a meeting on ``evaluation``: the policy's proposals, logged as the ``start`` event.

        ``policy``, ``roster`` and ``scores`` are passed to ``allocate``; ``at`` defaults to now (UTC).
        """
        allocation = allocate(evaluation, policy, roster=roster, scores=scores)
        fixed = None if scores is None else tuple(sorted((str(k), to_decimal(v)) for k, v in scores.items()))
        data = {
            "scheme_id": evaluation.scheme_id,
            "scheme_version": evaluation.scheme_version,
            "proposed": allocation.grades(),
            "escalated": [list(t.employee_ids) for t in allocation.ties if t.resolved is None],
        }
        log = AuditLog.start(anchor=_anchor(evaluation, allocation, fixed)).append("start", data, actor=actor, at=at)
        return cls(
            evaluation=evaluation,
            allocation=allocation,
            latest=allocation,
            roster=roster,
            scores=fixed,
            current=tuple(sorted(allocation.grades().items())),
            log=log,
        )

    @classmethod
    def replay(
        cls,
        evaluation: Evaluation,
        policy: PolicyLike,
        log: AuditLog,
        *,
        roster: Roster | None = None,
        scores: Mapping[str, Decimal] | None = None,
        expected_head: str | None = None,
    ) -> CalibrationSession:
        """Rebuild a session from its log: verify it, check it belongs to these inputs, re-apply it.

        Raises :class:`AuditError` when the log is broken, ends elsewhere than ``expected_head``,
        was started from other inputs, or holds an event that re-applying records differently;
        :class:`CalibrationError` when an event is not a valid action. The result equals the
        session that wrote the log (same grades, same head); if the log ends with ``finalise``,
        the session is finalised and :attr:`result` holds the result.
        """
        log.verify(expected_head=expected_head)
        if not len(log) or log[0].kind != "start":
            raise AuditError("a calibration log begins with a 'start' event; this one does not", seq=0)
        first = log[0]
        session = cls.start(evaluation, policy, roster=roster, scores=scores, actor=first.actor, at=first.at)
        if session.log.anchor != log.anchor:
            raise AuditError(
                f"the log belongs to another start: it is anchored to {log.anchor}, but these inputs "
                f"(scheme, policy, score cards, pools, scores) give {session.log.anchor}; replay it with the "
                "evaluation, policy, roster and scores the session started from"
            )
        _same_event(session.log, log, 0)
        for event in log.events[1:]:
            if session.finalised:
                raise AuditError(f"a {event.kind!r} event follows the finalise event", seq=event.seq)
            session = session._apply(event)
            _same_event(session.log, log, event.seq)
        return session

    def _apply(self, event: Event) -> CalibrationSession:
        actor, at = event.actor, event.at
        decision = {"reason_code": str, "comment": str, "authorised_by": str}
        try:
            if event.kind == "override":
                args = _fields(event, employee_id=str, grade=str, exception=bool, **decision)
                return self.override(args.pop("employee_id"), args.pop("grade"), **args, actor=actor, at=at)
            if event.kind == "resolve_tie":
                args = _fields(event, employee_ids=tuple, grade=str, **decision)
                return self.resolve_tie(args.pop("employee_ids"), args.pop("grade"), **args, actor=actor, at=at)
            if event.kind == "rebalance":
                return self.rebalance(actor=_actor(actor), at=at, **_fields(event, comment=str))
            if event.kind == "finalise":
                return self._finalise(actor=_actor(actor), at=at)[0]
        except CalibrationError as exc:
            raise CalibrationError(
                f"event {event.seq} ({event.kind}) cannot be replayed: {exc.message}",
                pool=exc.pool,
                employee_id=exc.employee_id,
                grade=exc.grade,
                constraints=exc.constraints,
            ) from None
        raise AuditError(f"a calibration session has no action {event.kind!r}", seq=event.seq)

    # -- reading -----------------------------------------------------------------------------

    @property
    def events(self) -> tuple[Event, ...]:
        return self.log.events

    @property
    def anchor(self) -> str:
        """The SHA-256 of the starting state this session's log is chained from."""
        assert self.log.anchor is not None
        return self.log.anchor

    @property
    def finalised(self) -> bool:
        return self._latch.result is not None

    @property
    def result(self) -> CalibrationResult | None:
        """The result this session was finalised with, or None while it is open."""
        return self._latch.result

    @property
    def scale(self) -> GradeScale:
        return self.allocation.policy.scale

    def grades(self) -> dict[str, str]:
        """Employee id → grade now."""
        return dict(self._grades)

    def status(self) -> tuple[PoolResult, ...]:
        """Each pool's quota status for the grades now (ties the meeting resolved count as resolved)."""
        recorded = tuple(t for t in self.latest.ties if t.resolved is not None)
        return quota_status(attrs.evolve(self.latest, ties=recorded + self.settled), self._grades)

    def unmet(self) -> tuple[str, ...]:
        """Every quota not met by the grades now, in words, pool by pool."""
        return _unmet(self.status())

    def ties(self) -> tuple[TieCut, ...]:
        """The escalated ties still open (someone in them has no decision yet)."""
        decided = {o.employee_id for o in self.overrides}
        return tuple(t for t in self.latest.ties if t.resolved is None and not set(t.employee_ids) <= decided)

    def boundary_cases(self) -> tuple[BoundaryCase, ...]:
        """People near a band edge or a quota cut, and people a rule asks to review, by employee id."""
        cases = []
        for placement in self.allocation:
            reasons = list(placement.boundary)
            card = self.evaluation[placement.employee_id]
            if card.review_required:
                rules = [fired.id for fired in card.fired if fired.require_review]
                reasons.append(f"a rule asks for review ({', '.join(rules)})" if rules else "a rule asks for review")
            if reasons:
                cases.append(
                    BoundaryCase(
                        employee_id=placement.employee_id,
                        pool=placement.pool,
                        total=placement.total,
                        proposed=placement.proposed,
                        reasons=tuple(reasons),
                    )
                )
        return tuple(cases)

    # -- actions -----------------------------------------------------------------------------

    def override(
        self,
        employee_id: str,
        grade: str,
        *,
        reason_code: str,
        comment: str,
        authorised_by: str,
        exception: bool = False,
        actor: str | None = None,
        at: datetime | None = None,
    ) -> CalibrationSession:
        """Set one person's grade; nobody else moves (see :meth:`rebalance`).

        A grade past one of the person's limits (a rule's cap, floor or veto) needs
        ``exception=True``. ``actor`` (who records it) defaults to ``authorised_by``.
        """
        self._check_open("override")
        _check_text(reason_code=reason_code, authorised_by=authorised_by)
        if not isinstance(comment, str):
            raise CalibrationError(f"comment is text, got {type(comment).__name__}", employee_id=employee_id)
        placement = self._placement(employee_id)
        self._check_grade(grade, employee_id)
        past = _past_limits(placement, grade, self.scale)
        if grade not in placement.allowed and not exception:
            raise CalibrationError(
                f"grade {grade} goes past {' and '.join(f'the limit {lim.describe()}' for lim in past) or 'a limit'}; "
                f"the grades allowed are {', '.join(placement.allowed)}. An override past a rule's limit needs "
                "exception=True (and a reason the authoriser stands behind)",
                pool=placement.pool,
                employee_id=employee_id,
                grade=grade,
                constraints=tuple(lim.describe() for lim in past),
            )
        record = Override(
            employee_id=employee_id,
            grade=grade,
            previous=self._grades[employee_id],
            reason_code=reason_code,
            comment=comment,
            authorised_by=authorised_by,
            exception=bool(exception),
            past_limits=past,
        )
        data = {
            "employee_id": employee_id,
            "grade": grade,
            "previous": record.previous,
            "reason_code": reason_code,
            "comment": comment,
            "authorised_by": authorised_by,
            "exception": record.exception,
            "past_limits": [lim.describe() for lim in past],
        }
        log = self.log.append("override", data, actor=authorised_by if actor is None else actor, at=at)
        return self._decided(log, (record,))

    def resolve_tie(
        self,
        tie: int | Collection[str],
        grade: str,
        *,
        reason_code: str,
        comment: str,
        authorised_by: str,
        actor: str | None = None,
        at: datetime | None = None,
    ) -> CalibrationSession:
        """Give everyone in an escalated tie the same grade, one of the grades the cut split them over.

        ``tie`` is a position in :meth:`ties` or the employee ids of one open tie.
        """
        self._check_open("resolve a tie")
        _check_text(reason_code=reason_code, authorised_by=authorised_by)
        cut = self._find_tie(tie)
        self._check_grade(grade, cut.employee_ids[0])
        if grade not in cut.grades:
            raise CalibrationError(
                f"the tie at {cut.total} is between {' and '.join(cut.grades)}; resolve it to one of them "
                "(or override people one by one)",
                pool=cut.pool,
                grade=grade,
            )
        records = []
        for eid in cut.employee_ids:
            placement = self.allocation[eid]
            if grade not in placement.allowed:
                limits = tuple(lim.describe() for lim in _past_limits(placement, grade, self.scale))
                raise CalibrationError(
                    f"grade {grade} goes past a limit; override this person with exception=True",
                    pool=cut.pool,
                    employee_id=eid,
                    grade=grade,
                    constraints=limits,
                )
            records.append(
                Override(
                    employee_id=eid,
                    grade=grade,
                    previous=self._grades[eid],
                    reason_code=reason_code,
                    comment=comment,
                    authorised_by=authorised_by,
                    kind="tie",
                )
            )
        before = tuple((r.employee_id, r.previous) for r in records if r.previous != grade)
        data = {
            "pool": cut.pool,
            "employee_ids": list(cut.employee_ids),
            "total": cut.total,
            "grade": grade,
            "previous": {r.employee_id: r.previous for r in records},
            "reason_code": reason_code,
            "comment": comment,
            "authorised_by": authorised_by,
        }
        log = self.log.append("resolve_tie", data, actor=authorised_by if actor is None else actor, at=at)
        settled = attrs.evolve(cut, resolved=grade, before=before)
        return self._decided(log, tuple(records), settled=(*self.settled, settled))

    def rebalance(self, *, actor: str, at: datetime | None = None, comment: str = "") -> CalibrationSession:
        """Re-allocate everyone the meeting has not decided, around the decisions, to meet the quotas.

        Raises :class:`CalibrationError` (from the allocation) when no grades can meet the
        quotas with the decisions fixed; the session is then unchanged.
        """
        self._check_open("rebalance")
        _check_text(actor=actor)
        fixed = {o.employee_id: o.grade for o in self.overrides}
        scores = None if self.scores is None else dict(self.scores)
        try:
            latest = allocate(
                self.evaluation, self.allocation.policy, roster=self.roster, overrides=fixed, scores=scores
            )
        except CalibrationError as exc:
            raise CalibrationError(
                f"cannot rebalance around the meeting's decisions: {exc.message}",
                pool=exc.pool,
                employee_id=exc.employee_id,
                grade=exc.grade,
                constraints=exc.constraints,
                problems=exc.problems if len(exc.problems) > 1 else (),
            ) from None
        grades = latest.grades()
        kept = [eid for eid, grade in fixed.items() if grades.get(eid) != grade]
        if kept:
            raise CalibrationError("the re-allocation did not keep this decision", employee_id=kept[0])
        moves = {eid: [self._grades[eid], grade] for eid, grade in sorted(grades.items()) if self._grades[eid] != grade}
        data = {"moves": moves, "decided": sorted(fixed), "comment": comment}
        log = self.log.append("rebalance", data, actor=actor, at=at)
        return attrs.evolve(self, latest=latest, current=tuple(sorted(grades.items())), log=log)

    def finalise(self, *, actor: str, at: datetime | None = None) -> CalibrationResult:
        """Close the meeting: check the guidelines, log ``finalise`` and return the result.

        Under ``enforcement: enforce`` an unmet quota or an open tie raises
        :class:`CalibrationError` naming them; under ``warn`` the result lists them as
        warnings. Afterwards this session refuses further actions.
        """
        _, result = self._finalise(actor=actor, at=at)
        self._latch.result = result
        return result

    def _finalise(self, *, actor: str, at: datetime | None) -> tuple[CalibrationSession, CalibrationResult]:
        self._check_open("finalise")
        _check_text(actor=actor)
        policy = self.allocation.policy
        status = self.status()
        open_ties = self.ties()
        problems = (*_unmet(status), *(_describe_tie(t) for t in open_ties))
        if policy.enforcement == "enforce" and problems:
            pools = sorted({*(p.key for p in status if not p.ok), *(t.pool for t in open_ties)})
            raise CalibrationError(
                f"cannot finalise: the policy enforces its guidelines, and pool(s) {', '.join(pools)} do not meet "
                "them; override or rebalance, resolve the ties, then finalise again",
                pool=pools[0],
                constraints=problems,
            )
        data = {"grades": dict(self._grades), "enforcement": policy.enforcement, "warnings": list(problems)}
        log = self.log.append("finalise", data, actor=actor, at=at)
        decisions = {o.employee_id: o for o in self.overrides}
        people = tuple(
            CalibratedGrade(
                employee_id=p.employee_id,
                pool=p.pool,
                total=p.total,
                rule_grade=p.rule_grade,
                proposed=p.proposed,
                final=self._grades[p.employee_id],
                override=decisions.get(p.employee_id),
            )
            for p in self.allocation
        )
        result = CalibrationResult(
            scheme_id=self.evaluation.scheme_id,
            scheme_version=self.evaluation.scheme_version,
            policy=policy.declaration,
            grade_names=self.scale.names,
            people=people,
            pools=status,
            warnings=problems,
            finalised_by=actor,
            finalised_at=log[-1].at,
            head=log.head,
            log=log,
        )
        closed = attrs.evolve(self, log=log)
        closed._latch.result = result
        return closed, result

    # -- helpers -----------------------------------------------------------------------------

    def _decided(
        self, log: AuditLog, records: tuple[Override, ...], *, settled: tuple[TieCut, ...] | None = None
    ) -> CalibrationSession:
        grades = dict(self._grades)
        decisions = {o.employee_id: o for o in self.overrides}
        for record in records:
            grades[record.employee_id] = record.grade
            decisions[record.employee_id] = record
        return attrs.evolve(
            self,
            log=log,
            current=tuple(sorted(grades.items())),
            overrides=tuple(decisions[eid] for eid in sorted(decisions)),
            settled=self.settled if settled is None else settled,
        )

    def _check_open(self, action: str) -> None:
        if self._latch.result is not None:
            raise CalibrationError(
                f"cannot {action}: this session was finalised (head {self._latch.result.head}); "
                "a finalised calibration is a record, start a new session to calibrate again"
            )

    def _placement(self, employee_id: str) -> Placement:
        if isinstance(employee_id, str) and employee_id in self.allocation:
            return self.allocation[employee_id]
        known = [p.employee_id for p in self.allocation]
        close = difflib.get_close_matches(str(employee_id), known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise CalibrationError(f"is not in this calibration session{hint}", employee_id=str(employee_id))

    def _check_grade(self, grade: str, employee_id: str) -> None:
        names = self.scale.names
        if isinstance(grade, str) and grade in names:
            return
        text = str(grade)
        close = [n for n in names if n.casefold() == text.casefold()] or difflib.get_close_matches(text, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"the grades are {', '.join(names)}"
        raise CalibrationError(f"unknown grade {grade!r}; {hint}", employee_id=employee_id, grade=text)

    def _find_tie(self, tie: int | Collection[str]) -> TieCut:
        open_ties = self.ties()
        listed = "; ".join(f"{n}: {_describe_tie(t)}" for n, t in enumerate(open_ties)) or "none"
        if isinstance(tie, int):
            if not isinstance(tie, bool) and 0 <= tie < len(open_ties):
                return open_ties[tie]
            raise CalibrationError(f"there is no open tie {tie}; the open ties are: {listed}")
        if isinstance(tie, str):
            raise CalibrationError(f"name a tie by its position or by all its employee ids, not one id {tie!r}")
        wanted = {str(eid) for eid in tie}
        for cut in open_ties:
            if set(cut.employee_ids) == wanted:
                return cut
        raise CalibrationError(
            f"no open tie is between exactly {', '.join(sorted(wanted))}; the open ties are: {listed}"
        )


# -- module helpers ------------------------------------------------------------------------


def _anchor(evaluation: Evaluation, allocation: Allocation, scores: tuple[tuple[str, Decimal], ...] | None) -> str:
    """SHA-256 of the starting state: scheme, policy, every card's total and grade, pools, scores."""
    state: dict[str, Any] = {
        "scheme_id": evaluation.scheme_id,
        "scheme_version": evaluation.scheme_version,
        "policy": allocation.policy.declaration.model_dump(mode="json"),
        "cards": [
            [c.employee_id, format(c.total, "f"), c.grade] for c in sorted(evaluation, key=lambda c: c.employee_id)
        ],
        "pools": [[pool.key, list(pool.members)] for pool in allocation.pools],
    }
    if scores is not None:
        state["scores"] = [[eid, format(value, "f")] for eid, value in scores]
    text = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _past_limits(placement: Placement, grade: str, scale: GradeScale) -> tuple[Limit, ...]:
    """The rule limits ``grade`` breaks: better than a cap or veto, worse than a floor."""
    rank = scale.rank(grade)
    past = []
    for limit in placement.limits:
        above = limit.kind in ("cap", "veto") and rank < scale.rank(limit.grade)
        below = limit.kind == "floor" and rank > scale.rank(limit.grade)
        if above or below:
            past.append(limit)
    return tuple(past)


def _unmet(pools: Iterable[PoolResult]) -> tuple[str, ...]:
    found: list[str] = []
    for pool in pools:
        found.extend(f"pool {pool.key}: {q.describe()}" for q in pool.quotas if not q.ok)
        for sub, statuses in pool.subpools:
            found.extend(f"pool {pool.key} / {sub}: {q.describe()}" for q in statuses if not q.ok)
    return tuple(found)


def _describe_tie(tie: TieCut) -> str:
    return (
        f"pool {tie.pool}: tie at {tie.total} between {', '.join(tie.employee_ids)} over {'/'.join(tie.grades)} is open"
    )


def _check_text(**fields: object) -> None:
    for name, value in fields.items():
        if not isinstance(value, str) or not value.strip():
            raise CalibrationError(f"{name} is required: a non-empty text, got {value!r}")


def _actor(actor: str | None) -> str:
    if actor is None:
        raise CalibrationError("the event has no actor, and this action needs one")
    return actor


def _fields(event: Event, **kinds: type) -> dict[str, Any]:
    """The named values of an event's data, each checked to be of its type."""
    values = {}
    for name, kind in kinds.items():
        value = event.data.get(name)
        if not isinstance(value, kind):
            raise AuditError(f"the {event.kind!r} event has no {name!r} of type {kind.__name__}", seq=event.seq)
        values[name] = value
    return values


def _same_event(replayed: AuditLog, log: AuditLog, seq: int) -> None:
    """The event re-applying wrote must be the one the log holds."""
    mine, theirs = replayed[seq], log[seq]
    if mine.hash == theirs.hash:
        return
    fields = [n for n in ("kind", "actor", "at") if getattr(mine, n) != getattr(theirs, n)]
    keys = sorted(k for k in {*mine.data, *theirs.data} if mine.data.get(k) != theirs.data.get(k))
    differs = ", ".join([*fields, *(f"data[{k!r}]" for k in keys)]) or "its content"
    raise AuditError(
        f"re-applying this {theirs.kind!r} event records a different {differs}: the allocation or the inputs "
        "are not the ones the log was written with",
        seq=seq,
        event_hash=theirs.hash,
    )
