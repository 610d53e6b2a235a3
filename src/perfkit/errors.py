"""Errors raised by perfkit.

Every error perfkit raises is a :class:`PerfkitError`. The tree::

    PerfkitError                 base class; never raised itself
    ├── SchemeError (ValueError) a scheme (file or object) is malformed or inconsistent
    │   └── FormulaError         a formula does not parse, check, or fold
    ├── DataError (ValueError)   an input row is bad, or a formula fails on it
    ├── GoalGraphError (ValueError)    a goal file or goal graph is inconsistent (names the goal ids)
    ├── CalibrationError (ValueError)  a calibration policy, pool or override cannot be met
    └── AuditError (ValueError)  an audit log was edited, reordered or cut

Each error names what to fix: the file and field path for a scheme, the formula text with
line, column and a caret, the employee id and column for data. Each one is also available
as data through :meth:`PerfkitError.to_dict`, and errors that stand for several problems
carry them in :attr:`PerfkitError.problems`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from perfkit._text import display_width

__all__ = [
    "AuditError",
    "CalibrationError",
    "DataError",
    "FormulaError",
    "GoalGraphError",
    "PerfkitError",
    "SchemeError",
    "one_error",
]


class PerfkitError(Exception):
    """Base class of every error perfkit raises.

    ``problems`` holds the individual problems when one error reports several (a scheme
    with three mistakes, a data set with ten bad rows); for a single problem it holds the
    error itself.
    """

    def __init__(self, message: str, *, problems: tuple[PerfkitError, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self._problems = problems

    @property
    def problems(self) -> tuple[PerfkitError, ...]:
        return self._problems or (self,)

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The problem as plain data, for services and logs."""
        data: dict[str, Any] = {"type": type(self).__name__, "message": self.message}
        data.update({k: v for k, v in self._fields().items() if v is not None})
        if self._problems:
            data["problems"] = [p.to_dict() for p in self._problems]
        return data

    def _fields(self) -> dict[str, Any]:
        return {}


class SchemeError(PerfkitError, ValueError):
    """A scheme is malformed or inconsistent.

    ``path`` is the field path inside the scheme (``kpis[2].weight``), ``source`` the file it
    came from and ``line`` its line there, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        source: str | None = None,
        line: int | None = None,
        scheme_id: str | None = None,
        problems: tuple[PerfkitError, ...] = (),
    ) -> None:
        super().__init__(message, problems=problems)
        self.path = path
        self.source = source
        self.line = line
        self.scheme_id = scheme_id

    def __str__(self) -> str:
        if self._problems:
            return self.message
        return f"{self.where()}: {self.message}" if self.where() else self.message

    def where(self) -> str:
        """``file:line: path``, with whatever parts are known."""
        if self.source is None:
            place = f"line {self.line}" if self.line is not None else ""
        else:
            place = self.source if self.line is None else f"{self.source}:{self.line}"
        return ": ".join(p for p in (place, self.path) if p)

    def located(self, *, source: str | None, line: int | None) -> SchemeError:
        """A copy of this problem that also names the file and line."""
        return self._copy(source=source, line=line)

    def _copy(self, **changes: Any) -> SchemeError:
        fields = self._fields()
        fields.update(changes)
        return type(self)(self.message, **fields)

    def _fields(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "source": self.source,
            "line": self.line,
            "scheme_id": self.scheme_id,
        }


class FormulaError(SchemeError):
    """A formula does not parse, names something unknown, or breaks a sandbox limit.

    Carries the formula ``text``, its ``path`` in the scheme (``kpis[2].score``), the
    1-based ``formula_line`` and ``column`` of the problem inside the formula, an optional
    ``suggestion`` (did-you-mean), and renders a caret line under the problem.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str = "",
        formula_line: int = 1,
        column: int = 1,
        end_column: int | None = None,
        suggestion: str | None = None,
        hint: str | None = None,
        path: str | None = None,
        source: str | None = None,
        line: int | None = None,
        scheme_id: str | None = None,
    ) -> None:
        super().__init__(message, path=path, source=source, line=line, scheme_id=scheme_id)
        self.text = text
        self.formula_line = formula_line
        self.column = column
        self.end_column = end_column
        self.suggestion = suggestion
        self.hint = hint

    def caret(self) -> str:
        """The formula line with a caret line under the problem."""
        lines = self.text.splitlines() or [""]
        shown = lines[min(self.formula_line, len(lines)) - 1]
        start = self.column - 1
        end = self.end_column - 1 if self.end_column and self.end_column > self.column else start + 1
        pad = display_width(shown[:start])
        width = max(1, display_width(shown[start:end]))
        return f"    {shown}\n    {' ' * pad}{'^' * width}"

    def __str__(self) -> str:
        head = self.message
        if self.suggestion:
            head += f"; did you mean {self.suggestion!r}?"
        where = self.where()
        position = f"line {self.formula_line}, column {self.column}"
        parts = [f"{where}: {head}" if where else head, self.caret(), f"    ({position})"]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)

    def _fields(self) -> dict[str, Any]:
        fields = super()._fields()
        fields.update(
            text=self.text,
            formula_line=self.formula_line,
            column=self.column,
            end_column=self.end_column,
            suggestion=self.suggestion,
            hint=self.hint,
        )
        return fields


class DataError(PerfkitError, ValueError):
    """An input row is bad, or a formula cannot be evaluated on it.

    ``employee_id`` and ``column`` name the cell to fix; ``row`` is the 0-based position of
    the row in the input; ``formula`` and ``path`` are set when a formula failed on the row.
    """

    def __init__(
        self,
        message: str,
        *,
        employee_id: str | None = None,
        column: str | None = None,
        row: int | None = None,
        value: Any = None,
        path: str | None = None,
        formula: str | None = None,
        problems: tuple[PerfkitError, ...] = (),
    ) -> None:
        super().__init__(message, problems=problems)
        self.employee_id = employee_id
        self.column = column
        self.row = row
        self.value = value
        self.path = path
        self.formula = formula

    def __str__(self) -> str:
        where = []
        if self.employee_id is not None:
            where.append(f"employee {self.employee_id!r}")
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self._problems:
            return f"{where[0]}: {self.message}" if where else self.message
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.path is not None:
            where.append(self.path)
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        if self.formula is not None:
            text += f"\n    {self.formula}"
        return text

    def _fields(self) -> dict[str, Any]:
        return {
            "employee_id": self.employee_id,
            "column": self.column,
            "row": self.row,
            "value": None if self.value is None else str(self.value),
            "path": self.path,
            "formula": self.formula,
        }


class GoalGraphError(PerfkitError, ValueError):
    """A goal, a goal file or a change to a goal graph is inconsistent.

    ``goals`` names the goal ids involved, in order (for a cycle, the goals around it, the
    first repeated at the end); ``path`` is the field path inside a goal file
    (``goals[3].contributes_to[0].goal``), ``source`` the file and ``line`` its line there,
    when known.
    """

    def __init__(
        self,
        message: str,
        *,
        goals: tuple[str, ...] = (),
        path: str | None = None,
        source: str | None = None,
        line: int | None = None,
        problems: tuple[PerfkitError, ...] = (),
    ) -> None:
        super().__init__(message, problems=problems)
        self.goals = goals
        self.path = path
        self.source = source
        self.line = line

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(self.source + (f":{self.line}" if self.line is not None else ""))
        if self.path is not None and not self._problems:
            where.append(self.path)
        if len(self.goals) == 1 and not self._problems:
            where.append(f"goal {self.goals[0]!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def _fields(self) -> dict[str, Any]:
        return {
            "goals": list(self.goals) or None,
            "path": self.path,
            "source": self.source,
            "line": self.line,
        }


class CalibrationError(PerfkitError, ValueError):
    """A calibration cannot go ahead: a bad policy, an impossible pool, a bad override.

    ``pool`` names the calibration pool, ``employee_id`` the person and ``grade`` the grade
    involved, when there is one; ``constraints`` lists, in words, the quotas and per-person
    limits that conflict (for an allocation that does not exist).
    """

    def __init__(
        self,
        message: str,
        *,
        pool: str | None = None,
        employee_id: str | None = None,
        grade: str | None = None,
        constraints: tuple[str, ...] = (),
        problems: tuple[PerfkitError, ...] = (),
    ) -> None:
        super().__init__(message, problems=problems)
        self.pool = pool
        self.employee_id = employee_id
        self.grade = grade
        self.constraints = constraints

    def __str__(self) -> str:
        where = []
        if self.pool is not None:
            where.append(f"pool {self.pool!r}")
        if self.employee_id is not None:
            where.append(f"employee {self.employee_id!r}")
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        if self.constraints and not self._problems:
            text += "".join(f"\n    - {c}" for c in self.constraints)
        return text

    def _fields(self) -> dict[str, Any]:
        return {
            "pool": self.pool,
            "employee_id": self.employee_id,
            "grade": self.grade,
            "constraints": list(self.constraints) or None,
        }


class AuditError(PerfkitError, ValueError):
    """An audit log does not verify: an event was edited, removed, reordered or forged.

    ``seq`` is the position (0-based) of the first event that fails, ``event_hash`` the hash
    that event claims.
    """

    def __init__(self, message: str, *, seq: int | None = None, event_hash: str | None = None) -> None:
        super().__init__(message)
        self.seq = seq
        self.event_hash = event_hash

    def __str__(self) -> str:
        return f"event {self.seq}: {self.message}" if self.seq is not None else self.message

    def _fields(self) -> dict[str, Any]:
        return {"seq": self.seq, "event_hash": self.event_hash}


E = TypeVar("E", SchemeError, DataError, CalibrationError, GoalGraphError)

MOST_LISTED = 10
"""How many problems :func:`one_error` writes into its message (all stay in ``.problems``)."""


def one_error(problems: Sequence[E], headline: str, kind: type[E]) -> E:
    r"""One error to raise for ``problems`` (at least one), so callers can collect then fail.

    A single problem is returned as it is. Several become a ``kind`` whose message is the
    ``headline``, then the first :data:`MOST_LISTED` problems one per line, and whose
    :attr:`~PerfkitError.problems` holds all of them.

    >>> str(one_error([DataError("bad", column="a"), DataError("worse", column="b")], "2 bad cells", DataError))
    "2 bad cells:\n  - column 'a': bad\n  - column 'b': worse"
    """
    if not problems:
        raise ValueError("one_error needs at least one problem")
    if len(problems) == 1:
        return problems[0]
    listed = "\n".join("  - " + str(p).replace("\n", "\n    ") for p in problems[:MOST_LISTED])
    more = f"\n  ... and {len(problems) - MOST_LISTED} more" if len(problems) > MOST_LISTED else ""
    return kind(f"{headline}:\n{listed}{more}", problems=tuple(problems))
