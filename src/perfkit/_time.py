"""ISO 8601 timestamps read the same way on every supported Python.

``datetime.fromisoformat`` reads ``2026-04-01T10:00:00Z`` and ``+0800`` offsets only from
Python 3.11 on; perfkit supports 3.10, where this module fills the gap.

>>> parse_datetime("2026-04-01T10:00:00Z").isoformat()
'2026-04-01T10:00:00+00:00'
>>> parse_datetime("2026-04-01T10:00:00.5+0800").isoformat()
'2026-04-01T10:00:00.500000+08:00'
"""

from __future__ import annotations

import re
import sys
from datetime import datetime

__all__ = ["parse_datetime"]

_OFFSET = re.compile(r"(?:[Zz]|([+-]\d{2})(\d{2}))$")
_FRACTION = re.compile(r"(T\d{2}:\d{2}:\d{2})\.(\d{1,6})(?=$|[-+Zz])")


def parse_datetime(text: str) -> datetime:
    """``datetime.fromisoformat(text)``, also for ``Z``, ``+0800`` and short fractions on 3.10.

    Raises :class:`ValueError` for text that is not an ISO 8601 date and time.
    """
    text = text.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        if sys.version_info >= (3, 11):
            raise
    fixed = _OFFSET.sub(lambda m: "+00:00" if m[1] is None else f"{m[1]}:{m[2]}", text)
    fixed = _FRACTION.sub(lambda m: f"{m[1]}.{m[2]:0<6}", fixed)
    try:
        return datetime.fromisoformat(fixed)
    except ValueError:
        raise ValueError(f"Invalid isoformat string: {text!r}") from None
