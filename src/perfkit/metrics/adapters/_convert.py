"""Reading payload values as the types a mapping asks for.

Each converter takes a value as it came out of a payload (JSON already parsed with
``parse_float=Decimal``, CSV cells as text) and returns it as text, an exact Decimal, an int,
a bool, an aware datetime or a date, or raises :class:`ValueError` with a short reason; the
adapter adds which record and field it was.

Times: ``2026-04-01T10:00:00.000+0800`` (Jira), ``2026-04-01T10:00:00Z`` (Zendesk),
``2026-04-01T10:00:00.000+0000`` (Salesforce) keep their offset. A time without an offset,
and a date without a time (Salesforce ``CloseDate``), are placed in the caller's timezone,
a date at midnight there; without a timezone they are refused rather than guessed.

>>> to_datetime("2026-04-01T10:00:00.000+0800", None, None).isoformat()
'2026-04-01T10:00:00+08:00'
>>> to_datetime("2026-05-15", None, ZoneInfo("Asia/Shanghai")).isoformat()
'2026-05-15T00:00:00+08:00'
>>> convert(0.1, "number", None, None)
Decimal('0.1')
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from perfkit._time import parse_datetime
from perfkit.errors import SchemeError
from perfkit.metrics.adapters._mapping import FieldType
from perfkit.numbers import to_decimal

__all__ = ["convert", "record_id_text", "resolve_zone", "to_date", "to_datetime"]

_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.IGNORECASE,
)
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


def resolve_zone(tz: str | tzinfo | None) -> tzinfo | None:
    """A tzinfo from a zoneinfo key (``"Asia/Shanghai"``) or a tzinfo; SchemeError if unknown."""
    if tz is None or isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SchemeError(f"unknown timezone {tz!r}; use a zoneinfo key such as 'Asia/Shanghai'", path="tz") from None


def convert(value: Any, kind: FieldType, fmt: str | None, zone: tzinfo | None) -> Any:
    """``value`` read as ``kind``; ``None`` stays ``None`` and lists are read item by item."""
    if value is None:
        return None
    if type(value) is str:
        if kind in ("auto", "text"):
            return value  # the common case first
    elif isinstance(value, (list, tuple)) or (isinstance(value, Sequence) and not isinstance(value, (str, bytes))):
        return tuple(convert(item, kind, fmt, zone) for item in value)
    if kind == "auto":
        return _auto(value, zone)
    if kind == "text":
        return _text(value)
    if kind == "number":
        return _number(value)
    if kind == "integer":
        return _integer(value)
    if kind == "boolean":
        return _boolean(value)
    if kind == "datetime":
        return to_datetime(value, fmt, zone)
    return to_date(value, fmt)


def _auto(value: Any, zone: tzinfo | None) -> Any:
    if isinstance(value, (str, bool, int, Decimal)):
        return value
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, Mapping):
        return {str(k): convert(v, "auto", None, zone) for k, v in value.items()}
    if isinstance(value, (datetime, date)):
        return to_datetime(value, None, zone) if isinstance(value, datetime) else value
    raise ValueError(f"cannot keep a {type(value).__name__} value")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
        raise ValueError(f"expected text, found {_shown(value)}")
    return str(_number(value)) if isinstance(value, float) else str(value)


def _number(value: Any) -> Decimal:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a number perfkit can use")
    try:
        return to_decimal(value)
    except ValueError as exc:
        reason = str(exc)
        raise ValueError(reason if _shown(value) in reason else f"{_shown(value)} is not a number ({reason})") from None


def _integer(value: Any) -> int:
    number = _number(value)
    if number != number.to_integral_value():
        raise ValueError(f"{_shown(value)} is not a whole number")
    return int(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{_shown(value)} is not true/false (expected true, false, yes, no, 1 or 0)")


def to_datetime(value: Any, fmt: str | None, zone: tzinfo | None) -> datetime:
    """An aware datetime from ISO 8601 text (or ``fmt``), a datetime or a date."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return _midnight(value, zone, repr(value.isoformat()))
    elif not isinstance(value, str):
        raise ValueError(f"expected a date and time, found {_shown(value)}")
    elif fmt is not None:
        try:
            parsed = datetime.strptime(value.strip(), fmt)
        except ValueError:
            raise ValueError(f"{value!r} does not match the format {fmt!r}") from None
    else:
        fast = _fast_iso(value)
        if fast is None:
            return _regex_iso(value, zone)
        parsed = fast
    return _aware(parsed, value, zone)


def _regex_iso(text: str, zone: tzinfo | None) -> datetime:
    match = _ISO.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 date and time (like 2026-04-01T10:00:00+08:00)")
    if match["H"] is None:
        return _midnight(_date_of(match, text), zone, repr(text))
    return _aware(_iso(match, text), text, zone)


def _aware(parsed: datetime, value: Any, zone: tzinfo | None) -> datetime:
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        if zone is None:
            raise ValueError(
                f"{_shown(value)} has no UTC offset; pass tz= (e.g. 'Asia/Shanghai') or set the mapping's timezone"
            )
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def _fast_iso(text: str) -> datetime | None:
    """``datetime.fromisoformat`` for a date and time (C speed; on 3.11+ it reads ``+0800``
    and ``Z``); None when it cannot, and the regular expression decides."""
    if len(text) <= 10:
        return None  # a date alone: placed at midnight by the slower path, with its message
    try:
        return parse_datetime(text)
    except ValueError:
        return None


def to_date(value: Any, fmt: str | None) -> date:
    """A date from ``YYYY-MM-DD`` text (or ``fmt``) or a date (not a datetime: that has a time)."""
    if isinstance(value, datetime):
        raise ValueError(f"expected a date, found a date and time {value.isoformat()!r}")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a date, found {_shown(value)}")
    if fmt is not None:
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            raise ValueError(f"{value!r} does not match the format {fmt!r}") from None
    match = _ISO.fullmatch(value.strip())
    if match is None or match["H"] is not None:
        raise ValueError(f"{value!r} is not a date like 2026-05-15")
    return _date_of(match, value)


def _date_of(match: re.Match[str], text: str) -> date:
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date") from None


def _iso(match: re.Match[str], text: str) -> datetime:
    day = _date_of(match, text)
    fraction = (match["f"] or "")[:6].ljust(6, "0")  # below a microsecond is dropped
    offset = match["tz"]
    zone: tzinfo | None = None
    if offset is not None:
        zone = timezone.utc if offset.upper() == "Z" else _offset(offset, text)
    try:
        return datetime(
            day.year,
            day.month,
            day.day,
            int(match["H"]),
            int(match["M"]),
            int(match["S"] or 0),
            int(fraction),
            tzinfo=zone,
        )
    except ValueError:
        raise ValueError(f"{text!r} is not a valid time of day") from None


def _offset(text: str, whole: str) -> tzinfo:
    zone = _zone_of_offset(text)
    if zone is None:
        raise ValueError(f"{whole!r} has an impossible UTC offset {text!r}")
    return zone


@functools.lru_cache(maxsize=256)
def _zone_of_offset(text: str) -> tzinfo | None:
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _midnight(day: date, zone: tzinfo | None, shown: str) -> datetime:
    if zone is None:
        raise ValueError(
            f"{shown} is a date without a time; pass tz= (e.g. 'Asia/Shanghai') to place it at midnight there"
        )
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def record_id_text(value: Any) -> str:
    """A record id as text: text as written (not blank), whole numbers in digits."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("the record id is blank")
        return value
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        number = _number(value)
        if number == number.to_integral_value():
            return str(int(number))
    raise ValueError(f"a record id is text or a whole number, not {_shown(value)}")


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, Decimal, float)):
        return str(value)
    return f"a {type(value).__name__}"
