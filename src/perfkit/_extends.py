"""Scheme inheritance: a scheme file that ``extends:`` others, resolved into one plain scheme.

Company-wide rules are written once and role schemes build on them::

    # sales.yaml
    perfkit: 1
    id: sales-quarterly
    extends: company.yaml              # or a list: [company.yaml, sales-base.yaml]
    kpis:
      - {id: revenue, weight: 50%}     # overrides only the weight of company.yaml's KPI
      - {id: attitude, remove: true}   # drops a KPI of a base
      - {id: upsell, weight: 10%, score: clamp(upsell_rate * 100, 0, 100)}   # a new KPI

:func:`resolve` turns such a file and its bases into the plain data of one scheme (no
``extends`` left), which is then checked *as a whole* like any other scheme: the weights
must still sum to 100%, every name must resolve, the grade bands must cover every total.
It also says where every field of the result came from (:attr:`Resolved.origins`), so a
problem found in the combined scheme names the file and line to fix, and which file each
KPI and rule came from, for explanations.

Which files, in which order
    ``extends`` is a file name or a list of them, relative to the directory of the file that
    says it. A base may extend other files. The files apply as layers, each once: a file's
    bases first (each with its own bases before it, in the order listed), then the file on
    top. ``a extends [b, c]`` where ``b`` and ``c`` both extend ``d`` applies ``d, b, c, a``.

How a layer applies to what the layers under it built
    - ``perfkit``, ``id``, ``name``, ``version`` and ``description`` belong to the file that
      says them and are **not inherited**: they are taken from the extending (top) file only,
      which must give ``perfkit`` and ``id`` like any scheme. Every base must still say
      ``perfkit: 1``, so that each file says which format it is written in.
    - ``inputs`` merge by name; an input declared again is merged field by field
      (``sales: {max: 10000000}`` keeps the base's ``unit`` and ``min``).
    - ``kpis`` and ``rules`` merge by ``id``: an entry with a known id overrides only the
      fields it gives (``{id: revenue, weight: 50%}``) and keeps its place; a new id is
      appended, in order. A field given replaces the base's field whole (a rule's ``then``
      is replaced as a whole, not merged action by action).
    - ``rounding`` and ``calibration`` merge field by field; ``calibration.distribution`` is
      replaced whole.
    - ``grades`` are replaced as a whole when a layer gives them.
    - ``tests`` are concatenated: a base's worked examples are checked against the combined
      scheme too.
    - Any other field (``period``, ``total``, ``normalize_weights``, and misspelt fields, so
      that the check of the combined scheme reports them) is replaced by the layer that
      gives it.

Removing
    ``{id: attitude, remove: true}`` in ``kpis`` or ``rules`` removes the KPI or rule of that
    id that a base defines; ``attitude: {remove: true}`` under ``inputs`` removes an input.
    A removal takes no other fields. ``remove: false`` is the same as leaving it out.

Problems, all reported together in one :class:`~perfkit.SchemeError` (each one with the
file, line and field path to fix; the combined scheme is checked only when there are none):

    - ``extends`` that is not a file name or a list of file names;
    - a base file that does not exist or cannot be read (at the line of its ``extends``
      entry), is not valid YAML/JSON, is not a mapping, or does not say ``perfkit: 1``;
    - a cycle, naming the files in order (``a.yaml → b.yaml → a.yaml``);
    - ``remove`` of an id or input no base defines, ``remove`` that is not true or false, or
      a removal with other fields;
    - an entry in a file with bases whose id no base defines and that lacks a field a new
      KPI (``weight``, ``score``) or rule (``then``) needs: it meant to override something
      that is not there, usually a misspelt id (with a "did you mean"). A file without
      bases leaves such an entry to the check of the scheme, as before.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import attrs

from perfkit._files import Positions, parse_path, read_text
from perfkit.errors import SchemeError
from perfkit.scheme import FORMAT_VERSION, combine, format_path  # loaded first by perfkit/__init__

__all__ = ["Origin", "Reader", "Resolved", "read_file", "resolve"]

Reader = Callable[[Path], tuple[Any, Positions]]
"""Reads a base file into plain data and its positions; raises FileNotFoundError if absent."""

_OWN = frozenset({"perfkit", "id", "name", "version", "description"})
"""Fields that describe the file that says them: never inherited from a base."""
_NEEDS = {"kpis": ("weight", "score"), "rules": ("then",)}
"""The fields a new KPI or rule must give (an entry without them meant to override one)."""
_NOUN = {"kpis": "KPI", "rules": "rule", "inputs": "input"}
_ARROW = " → "


class Origin(NamedTuple):
    """Where a field of the combined scheme was written: the file (None for text) and line."""

    source: str | None
    line: int | None


@attrs.frozen
class Resolved:
    """A scheme with its bases applied: plain data ready for ``Scheme.from_dict``."""

    data: dict[str, Any]
    """The combined scheme: no ``extends``, no ``remove`` entries."""
    origins: dict[tuple[Any, ...], Origin]
    """Field path in :attr:`data` (``("kpis", 2, "weight")``) → where it was last written.
    ``()`` is always present (the extending file); use :meth:`origin` to look a path up."""
    kpi_sources: dict[str, str | None]
    """KPI id → the file that last defined or overrode it (None: text without a file)."""
    rule_sources: dict[str, str | None]
    """Rule id → the file that last defined or overrode it."""
    files: tuple[str | None, ...]
    """Every file that went into the scheme, in the order they apply (the extending one last)."""

    def origin(self, path: str | tuple[Any, ...] | None) -> Origin:
        """Where the field at ``path`` (``kpis[2].weight`` or a tuple) was written.

        A path that is not in the data (a missing field) gets the place of its nearest
        parent that is.
        """

        loc = path if isinstance(path, tuple) else parse_path(path)
        while loc:
            if loc in self.origins:
                return self.origins[loc]
            loc = loc[:-1]
        return self.origins[()]

    def locate(self, problem: SchemeError) -> SchemeError:
        """The problem, named at the file and line of its field (unchanged if already placed)."""
        if problem.source is not None or problem.line is not None:
            return problem
        source, line = self.origin(problem.path)
        return problem.located(source=source, line=line)


def read_file(path: Path) -> tuple[Any, Positions]:
    """The default :data:`Reader`: a UTF-8 YAML or JSON file, named by ``path`` in errors."""
    return read_text(path.read_text(encoding="utf-8-sig"), source=str(path))


def resolve(
    data: Mapping[str, Any],
    *,
    source: str | None,
    positions: Positions,
    read: Reader | None = None,
) -> Resolved:
    """Apply the bases named by ``extends`` (recursively) and return the combined scheme.

    ``data`` and ``positions`` are the extending file as :func:`~perfkit._files.read_text`
    gives them; ``source`` is its file name (bases are found relative to its directory, or
    to the working directory when it is None). A scheme without ``extends`` comes back
    unchanged. Raises :class:`~perfkit.SchemeError` listing every problem found; nothing
    passed in is modified.
    """
    root = _Layer(key=_identity(source), source=source, data=data, positions=positions, is_root=True)
    problems: list[SchemeError] = []
    layers = _Chain(read or read_file, problems).layers(root)
    state = _apply(layers, problems)
    if problems:
        scheme_id = data.get("id") if isinstance(data.get("id"), str) else None
        raise combine(problems, source=source, scheme_id=scheme_id)
    origins = {(): Origin(source, positions.get(()))}
    for key, node in state.items():
        origins.update({(key, *rel): where for rel, where in node.origins.items()})
    return Resolved(
        data=copy.deepcopy({key: node.value for key, node in state.items()}),
        origins=origins,
        kpi_sources=_sources(state.get("kpis")),
        rule_sources=_sources(state.get("rules")),
        files=tuple(layer.source for layer in layers),
    )


# -- values that remember where they were written ------------------------------------------


@attrs.frozen
class _Node:
    value: Any
    origins: dict[tuple[Any, ...], Origin]
    """Path relative to this value (``()`` is the value itself) → where it was written."""


def _child(node: _Node, key: Any) -> _Node:
    origins = {rel[1:]: where for rel, where in node.origins.items() if rel[:1] == (key,)}
    origins.setdefault((), Origin(node.origins[()].source, None))
    return _Node(node.value[key], origins)


def _assemble(value: Any, where: Origin, children: Iterable[tuple[Any, _Node]]) -> _Node:
    """A container ``value`` written at ``where``, whose items come from ``children``."""
    origins = {(): where}
    for key, child in children:
        origins.update({(key, *rel): place for rel, place in child.origins.items()})
    return _Node(value, origins)


def _mapping(where: Origin, items: Iterable[tuple[Any, _Node]]) -> _Node:
    items = list(items)
    return _assemble({key: child.value for key, child in items}, where, items)


def _sequence(where: Origin, nodes: Iterable[_Node]) -> _Node:
    nodes = list(nodes)
    return _assemble([node.value for node in nodes], where, enumerate(nodes))


def _merge_fields(base: _Node | None, patch: _Node) -> _Node:
    """``patch`` on top of ``base``, field by field (the patch's fields replace whole)."""
    if base is None or not isinstance(base.value, Mapping) or not isinstance(patch.value, Mapping):
        return patch
    given = patch.value
    origins = {rel: where for rel, where in base.origins.items() if rel and rel[0] not in given}
    origins.update(patch.origins)
    return _Node({**base.value, **given}, origins)


def _without(node: _Node, key: str) -> _Node:
    return _mapping(node.origins[()], ((k, _child(node, k)) for k in node.value if k != key))


def _sources(node: _Node | None) -> dict[str, str | None]:
    if node is None or not isinstance(node.value, list):
        return {}
    entries = (_child(node, i) for i in range(len(node.value)))
    return {
        entry.value["id"]: entry.origins[()].source
        for entry in entries
        if isinstance(entry.value, Mapping) and isinstance(entry.value.get("id"), str)
    }


# -- the files and their order -------------------------------------------------------------


@attrs.frozen
class _Layer:
    key: Path | None
    """The file's identity, for cycles and for applying each file once."""
    source: str | None
    data: Mapping[str, Any]
    positions: Positions
    is_root: bool

    def node(self, key: Any) -> _Node:
        origins = {p[1:]: Origin(self.source, line) for p, line in self.positions.items() if p[:1] == (key,)}
        origins.setdefault((), Origin(self.source, self.positions.get(())))
        return _Node(self.data[key], origins)

    def problem(self, message: str, path: tuple[Any, ...] = ()) -> SchemeError:
        """A problem at ``path`` in this file, with the line of the path or its parent."""

        loc = path
        while loc and loc not in self.positions:
            loc = loc[:-1]
        line = self.positions.get(loc)
        return SchemeError(message, path=format_path(path) or None, source=self.source, line=line)


def _identity(source: str | None) -> Path | None:
    return None if source is None else Path(source).resolve()


class _Chain:
    """Reads the bases of a file, depth first, into the list of layers to apply."""

    def __init__(self, read: Reader, problems: list[SchemeError]) -> None:
        self._read = read
        self._problems = problems
        self._done: dict[Path, list[_Layer]] = {}
        self._stack: list[_Layer] = []

    def layers(self, layer: _Layer) -> list[_Layer]:
        self._stack.append(layer)
        layers: list[_Layer] = []
        for entry, path in self._entries(layer):
            if isinstance(entry, str) and entry.strip():
                layers.extend(self._base(layer, entry.strip(), path))
            else:
                self._problems.append(layer.problem(f"expected the name of a scheme file, got {entry!r}", path))
        self._stack.pop()
        layers.append(layer)
        applied: set[Path] = set()
        once = []
        for each in layers:
            if each.key is None or each.key not in applied:
                once.append(each)
                if each.key is not None:
                    applied.add(each.key)
        return once

    def _entries(self, layer: _Layer) -> list[tuple[Any, tuple[Any, ...]]]:
        """The entries of ``extends`` with their paths, each still to be checked."""
        if "extends" not in layer.data:
            return []
        value = layer.data["extends"]
        items: list[tuple[Any, tuple[Any, ...]]]
        if isinstance(value, (list, tuple)):
            items = [(item, ("extends", i)) for i, item in enumerate(value)]
        elif isinstance(value, str):
            items = [(value, ("extends",))]
        else:
            self._problems.append(
                layer.problem(f"expected a file name or a list of file names, got {value!r}", ("extends",))
            )
            return []
        return items

    def _base(self, layer: _Layer, entry: str, path: tuple[Any, ...]) -> list[_Layer]:
        directory = os.path.dirname(layer.source) if layer.source is not None else ""
        name = os.path.normpath(os.path.join(directory, entry))
        key = Path(name).resolve()
        chain = [each.key for each in self._stack]
        if key in chain:
            files = [each.source or "<text>" for each in self._stack[chain.index(key) :]] + [name]
            self._problems.append(layer.problem(f"extends cycle: {_ARROW.join(files)}", path))
            return []
        if key in self._done:
            return self._done[key]
        looked = "" if name == entry else f" (looked for {name})"
        try:
            data, positions = self._read(Path(name))
        except FileNotFoundError:
            self._problems.append(layer.problem(f"{entry!r}: file not found{looked}", path))
            return []
        except UnicodeDecodeError:
            self._problems.append(layer.problem(f"{entry!r}: the file is not UTF-8 text{looked}", path))
            return []
        except OSError as exc:
            self._problems.append(layer.problem(f"{entry!r}: cannot read the file: {exc.strerror}{looked}", path))
            return []
        except SchemeError as exc:
            self._problems.extend(p for p in exc.problems if isinstance(p, SchemeError))
            self._done[key] = []
            return []
        base = _Layer(key=key, source=name, data=data, positions=positions, is_root=False)
        if not isinstance(data, Mapping):
            self._problems.append(
                base.problem(
                    "a base scheme is a mapping of fields (perfkit: 1, inputs: ..., kpis: ...), "
                    f"got {type(data).__name__}"
                )
            )
            self._done[key] = []
            return []
        self._check_version(base)
        self._done[key] = layers = self.layers(base)
        return layers

    def _check_version(self, base: _Layer) -> None:

        if "perfkit" not in base.data:
            message = f"a base scheme says its format version too: add 'perfkit: {FORMAT_VERSION}'"
            self._problems.append(base.problem(message, ("perfkit",)))
        elif base.data["perfkit"] != FORMAT_VERSION or isinstance(base.data["perfkit"], bool):
            says = base.data["perfkit"]
            message = f"this perfkit reads scheme format version {FORMAT_VERSION}; the file says {says!r}"
            self._problems.append(base.problem(message, ("perfkit",)))


# -- applying the layers -------------------------------------------------------------------


def _apply(layers: list[_Layer], problems: list[SchemeError]) -> dict[Any, _Node]:
    state: dict[Any, _Node] = {}
    for number, layer in enumerate(layers):
        for key in layer.data:
            if key == "extends" or (key in _OWN and not layer.is_root):
                continue
            patch = layer.node(key)
            current = state.get(key)
            if key == "inputs":
                state[key] = _merge_inputs(current, patch, layer, problems)
            elif key in _NEEDS:
                state[key] = _merge_by_id(key, current, patch, layer, problems, has_base=number > 0)
            elif key in ("rounding", "calibration"):
                state[key] = _merge_fields(current, patch)
            elif key == "tests" and current is not None and _both_lists(current, patch):
                items = [_child(current, i) for i in range(len(current.value))]
                items += [_child(patch, i) for i in range(len(patch.value))]
                state[key] = _sequence(patch.origins[()], items)
            else:
                state[key] = patch
    return state


def _both_lists(a: _Node, b: _Node) -> bool:
    return isinstance(a.value, list) and isinstance(b.value, list)


def _removal(kind: str, entry: Any, path: tuple[Any, ...], layer: _Layer, problems: list[SchemeError]) -> bool | None:
    """Whether ``entry`` asks to remove ``name``: True, False, or None for a bad request."""
    if not isinstance(entry, Mapping) or "remove" not in entry:
        return False
    flag = entry["remove"]
    if not isinstance(flag, bool):
        problems.append(layer.problem(f"'remove' is true or false, got {flag!r}", (*path, "remove")))
        return None
    others = sorted(str(k) for k in entry if k != "remove" and (k != "id" or kind == "inputs"))
    if flag and others:
        listed = ", ".join(repr(k) for k in others)
        message = f"a removed {_NOUN[kind]} takes no other fields: leave out {listed}, or 'remove'"
        problems.append(layer.problem(message, path))
        return None
    return flag


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _merge_inputs(current: _Node | None, patch: _Node, layer: _Layer, problems: list[SchemeError]) -> _Node:
    if not isinstance(patch.value, Mapping):
        return patch
    base = current if current is not None and isinstance(current.value, Mapping) else None
    inputs = {name: _child(base, name) for name in base.value} if base is not None else {}
    for name, spec in patch.value.items():
        path = ("inputs", name)
        remove = _removal("inputs", spec, path, layer, problems)
        if remove is None:
            continue
        given = _child(patch, name)
        if remove:
            if name in inputs:
                del inputs[name]
            else:
                message = f"cannot remove the input {name!r}: no base declares it" + _did_you_mean(str(name), inputs)
                problems.append(layer.problem(message, path))
            continue
        if isinstance(spec, Mapping) and "remove" in spec:
            given = _without(given, "remove")
        inputs[name] = _merge_fields(inputs.get(name), given)
    return _mapping(patch.origins[()], inputs.items())


def _merge_by_id(
    kind: str, current: _Node | None, patch: _Node, layer: _Layer, problems: list[SchemeError], *, has_base: bool
) -> _Node:
    """KPIs or rules of ``patch`` on top of ``current``, by id (see the module docstring)."""
    if not isinstance(patch.value, list):
        return patch
    entries: list[_Node | None] = []
    if current is not None and isinstance(current.value, list):
        entries = [_child(current, i) for i in range(len(current.value))]
    where: dict[str, int] = {}
    for i, entry in enumerate(entries):
        ident = entry.value.get("id") if entry is not None and isinstance(entry.value, Mapping) else None
        if isinstance(ident, str):
            where.setdefault(ident, i)
    seen: set[str] = set()
    noun = _NOUN[kind]
    for i, item in enumerate(patch.value):
        given = _child(patch, i)
        ident = item.get("id") if isinstance(item, Mapping) else None
        if not isinstance(ident, str) or ident in seen:
            entries.append(given)  # the check of the combined scheme reports it
            continue
        seen.add(ident)
        path = (kind, i)
        remove = _removal(kind, item, path, layer, problems)
        if remove is None:
            continue
        if remove:
            if ident in where:
                entries[where.pop(ident)] = None
            else:
                message = f"cannot remove the {noun} {ident!r}: no base defines it" + _did_you_mean(ident, where)
                problems.append(layer.problem(message, (*path, "id")))
            continue
        if "remove" in item:
            given = _without(given, "remove")
        if ident in where:
            entries[where[ident]] = _merge_fields(entries[where[ident]], given)
            continue
        missing = [field for field in _NEEDS[kind] if field not in item]
        if has_base and missing:
            needs = " and ".join(repr(field) for field in _NEEDS[kind])
            message = (
                f"no base defines a {noun} {ident!r} to override, and a new {noun} needs {needs}"
                + _did_you_mean(ident, where)
            )
            problems.append(layer.problem(message, (*path, "id")))
            continue
        entries.append(given)
    return _sequence(patch.origins[()], (entry for entry in entries if entry is not None))
