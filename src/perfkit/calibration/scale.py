"""Grade scales: ordered grades, their score bands and multipliers."""

from __future__ import annotations

from decimal import Decimal

import attrs

__all__ = ["Grade", "GradeScale"]


@attrs.frozen
class Grade:
    """One grade of a scale: its name, the lowest total that earns it, its multiplier."""

    name: str
    min_score: Decimal | None
    """``None`` on the worst grade when it takes every total below the next band."""
    multiplier: Decimal | None = None


@attrs.frozen
class GradeScale:
    """Grades ordered best to worst, with strictly decreasing ``min_score``.

    >>> scale = GradeScale((Grade("A", Decimal(85)), Grade("B", Decimal(70)), Grade("C", None)))
    >>> scale.band(Decimal("84.99")).name
    'B'
    >>> scale.worse("A", "B")
    'B'
    """

    grades: tuple[Grade, ...]
    _rank: dict[str, int] = attrs.field(init=False, eq=False, repr=False)
    names: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    """The grade names, best first."""

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_rank", {g.name: i for i, g in enumerate(self.grades)})
        object.__setattr__(self, "names", tuple(g.name for g in self.grades))

    def __contains__(self, name: object) -> bool:
        return name in self._rank

    def rank(self, name: str) -> int:
        """0 for the best grade, 1 for the next, ..."""
        return self._rank[name]

    def grade(self, name: str) -> Grade:
        return self.grades[self._rank[name]]

    def band(self, total: Decimal) -> Grade | None:
        """The best grade whose ``min_score`` the total reaches; None if below every band."""
        for grade in self.grades:
            if grade.min_score is None or total >= grade.min_score:
                return grade
        return None

    def worse(self, a: str, b: str) -> str:
        """The worse of two grades."""
        return a if self._rank[a] >= self._rank[b] else b

    def better(self, a: str, b: str) -> str:
        """The better of two grades."""
        return a if self._rank[a] <= self._rank[b] else b

    @property
    def lowest_min_score(self) -> Decimal | None:
        """The ``min_score`` of the worst grade (None: it takes everything below)."""
        return self.grades[-1].min_score
