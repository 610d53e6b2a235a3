"""Dotted paths into nested payloads: ``fields.assignee.accountId``, ``tags[0]``,
``fields.components[*].name``, ``custom_fields[id=27642].value``.

A path is parsed once (:func:`parse_path`) into steps and then read from each record
(:func:`lookup`). A lookup tells three outcomes apart, because they mean different things
to an adapter: the value is there (possibly ``None``, JSON ``null``), or a key on the way is
absent (the export did not include the field at all).

>>> steps = parse_path("fields.assignee.accountId")
>>> lookup({"fields": {"assignee": {"accountId": "5b10"}}}, steps)
Found(value='5b10')
>>> lookup({"fields": {"assignee": None}}, steps)
Found(value=None)
>>> lookup({"fields": {}}, steps)
ABSENT
>>> lookup({"custom_fields": [{"id": 7, "value": "x"}]}, parse_path("custom_fields[id=7].value"))
Found(value='x')
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, Final

import attrs

__all__ = ["ABSENT", "Absent", "Found", "PathSyntaxError", "ShapeProblem", "Step", "lookup", "parse_path"]


@attrs.frozen
class Key:
    """Take a key of an object."""

    name: str


@attrs.frozen
class Index:
    """Take one item of a list (negative counts from the end)."""

    position: int


@attrs.frozen
class Each:
    """Apply the rest of the path to every item of a list (``[*]``)."""


@attrs.frozen
class Match:
    """Take the one item of a list whose ``key`` holds ``value`` (``[id=27642]``)."""

    key: str
    value: str


Step = Key | Index | Each | Match


class Absent(Enum):
    """A key on the way is not in the record."""

    ABSENT = "ABSENT"

    def __repr__(self) -> str:
        return self.value


ABSENT: Final = Absent.ABSENT


@attrs.frozen
class Found:
    """The value at the path (``None`` for JSON ``null`` or a ``null`` on the way)."""

    value: Any


class PathSyntaxError(ValueError):
    """A path does not parse; the message says where."""


class ShapeProblem(ValueError):
    """The record has the wrong kind of value on the way (text where an object should be)."""


_SEGMENT = re.compile(r"(?P<name>[^.\[\]]*)(?P<selectors>(?:\[[^\[\]]*\])*)")
_SELECTOR = re.compile(r"\[([^\[\]]*)\]")


def parse_path(text: str) -> tuple[Step, ...]:
    """The steps of a dotted path.

    >>> parse_path("tags[0]")
    (Key(name='tags'), Index(position=0))
    >>> parse_path("a..b")
    Traceback (most recent call last):
    ...
    perfkit.metrics.adapters._paths.PathSyntaxError: empty part in path 'a..b'
    """
    if not text or text != text.strip():
        raise PathSyntaxError(f"path {text!r} is empty or has spaces around it")
    steps: list[Step] = []
    for part in text.split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise PathSyntaxError(f"cannot read {part!r} in path {text!r}; brackets are [0], [*] or [key=value]")
        if not match["name"] and not match["selectors"]:
            raise PathSyntaxError(f"empty part in path {text!r}")
        if match["name"]:
            steps.append(Key(match["name"]))
        for selector in _SELECTOR.findall(match["selectors"]):
            steps.append(_selector(selector, text))
    return tuple(steps)


def _selector(text: str, path: str) -> Step:
    if text == "*":
        return Each()
    if re.fullmatch(r"-?\d+", text):
        return Index(int(text))
    key, equals, value = text.partition("=")
    if equals and key.strip() and value.strip():
        return Match(key.strip(), value.strip())
    raise PathSyntaxError(f"cannot read [{text}] in path {path!r}; brackets are [0], [*] or [key=value]")


def describe(steps: Sequence[Step]) -> str:
    """The path text of ``steps`` (for messages)."""
    text = ""
    for step in steps:
        if isinstance(step, Key):
            text += f".{step.name}" if text else step.name
        elif isinstance(step, Index):
            text += f"[{step.position}]"
        elif isinstance(step, Each):
            text += "[*]"
        else:
            text += f"[{step.key}={step.value}]"
    return text


def lookup(record: Any, steps: Sequence[Step]) -> Found | Absent:
    """The value at ``steps`` in ``record``; raises :class:`ShapeProblem` on a wrong shape.

    A ``None`` on the way gives ``Found(None)``: ``fields.assignee.accountId`` of an
    unassigned Jira issue (``"assignee": null``) is a missing value, not a missing key.
    ``[*]`` gives a tuple with one result per item (``None`` where an item lacks the rest).
    """
    value = record
    for position, step in enumerate(steps):
        if value is None:
            return Found(None)
        if isinstance(step, Key):
            if type(value) is not dict and not isinstance(value, Mapping):
                raise ShapeProblem(_expected("an object", steps[:position], value))
            if step.name not in value:
                return ABSENT
            value = value[step.name]
            continue
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise ShapeProblem(_expected("a list", steps[:position], value))
        if isinstance(step, Index):
            if not -len(value) <= step.position < len(value):
                return ABSENT
            value = value[step.position]
        elif isinstance(step, Each):
            rest = steps[position + 1 :]
            results = []
            for item in value:
                found = lookup(item, rest)
                results.append(None if isinstance(found, Absent) else found.value)
            return Found(tuple(results))
        else:
            matched = _match(value, step, steps[: position + 1])
            if isinstance(matched, Absent):
                return ABSENT
            value = matched.value
    return Found(value)


def _match(items: Sequence[Any], step: Match, steps: Sequence[Step]) -> Found | Absent:
    hits = [item for item in items if isinstance(item, Mapping) and _text(item.get(step.key)) == step.value]
    if len(hits) > 1:
        raise ShapeProblem(f"{len(hits)} items match {describe(steps)}; expected one")
    return Found(hits[0]) if hits else ABSENT


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return str(value)


def _expected(kind: str, where: Sequence[Step], value: Any) -> str:
    place = f"at {describe(where)!r}" if where else "as the record"
    return f"expected {kind} {place}, found {_kind(value)}"


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Sequence):
        return "a list"
    return f"a {type(value).__name__}"
