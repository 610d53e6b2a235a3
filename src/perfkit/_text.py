"""Text helpers for terminals and notebooks."""

from __future__ import annotations

import unicodedata

__all__ = ["display_width"]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK and other wide characters take two.

    >>> display_width("销售额 > 1")
    10
    """
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
