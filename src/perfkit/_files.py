"""Reading and writing scheme text (YAML and JSON) exactly, with positions.

Numbers are read as the decimals their authors wrote (``0.1`` is ``Decimal("0.1")``), and
every mapping key and list item remembers its line, so a problem found later can name the
line of the field it is about.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from perfkit.errors import SchemeError

__all__ = ["Positions", "dump_json", "dump_yaml", "line_of", "parse_path", "plain", "read_file", "read_text"]

Positions = dict[tuple[Any, ...], int]
"""Field path (``("kpis", 2, "weight")``) → 1-based line."""


def read_file(path: str | os.PathLike[str], fail: Callable[[str], Exception], *, encoding: str = "utf-8-sig") -> str:
    """The text of a file; what goes wrong becomes ``fail(reason)``, raised.

    ``reason`` is ``file not found``, ``the file is not UTF-8 text`` (or the encoding
    asked for), ``unknown encoding ...`` or ``cannot read the file: ...``; each caller
    wraps it in its own error, naming the file its own way.
    """
    try:
        return Path(path).read_text(encoding=encoding)
    except FileNotFoundError:
        raise fail("file not found") from None
    except UnicodeDecodeError:
        label = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf-8-sig", "utf8") else encoding
        raise fail(f"the file is not {label} text") from None
    except LookupError:
        raise fail(f"unknown encoding {encoding!r}") from None
    except OSError as exc:
        raise fail(f"cannot read the file: {exc.strerror or exc}") from None


def read_text(text: str, *, source: str | None = None, fmt: str | None = None) -> tuple[Any, Positions]:
    """Parse YAML or JSON text into plain data and the lines of its fields.

    ``fmt`` is ``"yaml"`` or ``"json"``; by default it comes from the ``source`` suffix,
    and text that starts with ``{`` is JSON. JSON is a subset of YAML, so YAML is the
    fallback either way.
    """
    if fmt is None:
        suffix = Path(source).suffix.lower() if source else ""
        fmt = "json" if suffix == ".json" or (not suffix and text.lstrip().startswith("{")) else "yaml"
    if fmt == "json":
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise SchemeError(f"not valid JSON: {exc.msg}, column {exc.colno}", source=source, line=exc.lineno) from None
        try:
            positions = _yaml_positions(text)
        except yaml.YAMLError:
            positions = {}
        return data, positions
    return _read_yaml(text, source)


def _read_yaml(text: str, source: str | None) -> tuple[Any, Positions]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        positions: Positions = {}
        data = _construct(loader, node, (), positions)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "cannot read the YAML"
        raise SchemeError(f"not valid YAML: {problem}", source=source, line=line) from None
    except yaml.YAMLError as exc:
        raise SchemeError(f"not valid YAML: {exc}", source=source) from None
    finally:
        loader.dispose()
    return data, positions


def _yaml_positions(text: str) -> Positions:
    return _read_yaml(text, None)[1]


def _construct(loader: yaml.SafeLoader, node: yaml.Node, path: tuple[Any, ...], positions: Positions) -> Any:
    positions[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be text", key_node.start_mark
                )
            if key in result:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
            result[key] = _construct(loader, value_node, path + (key,), positions)
            positions[path + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, child, path + (i,), positions) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:float":
        return _yaml_float(node)
    return loader.construct_object(node, deep=True)


def _yaml_float(node: yaml.ScalarNode) -> Decimal:
    text = str(node.value).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a finite number", node.start_mark
        )
    return value


def plain(value: Any) -> Any:
    """Data with every Decimal made a JSON/YAML-friendly number without losing a digit.

    Whole decimals become ``int``; others become ``float`` when the float prints back as
    exactly the same decimal, and text otherwise.
    """
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < 10**15:
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    return yaml.dump(plain(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def dump_json(data: Any) -> str:
    return json.dumps(plain(data), ensure_ascii=False, indent=2) + "\n"


def parse_path(path: str | None) -> tuple[Any, ...]:
    """``kpis[2].score`` as a location tuple: ``("kpis", 2, "score")``."""
    if not path:
        return ()
    parts: list[Any] = []
    for piece in path.replace("[", ".[").split("."):
        if not piece:
            continue
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    return tuple(parts)


def line_of(path: str | None, positions: Positions) -> int | None:
    """The line of a field path in a file read by :func:`read_text`, or of its nearest parent."""
    loc = parse_path(path)
    while loc:
        if loc in positions:
            return positions[loc]
        loc = loc[:-1]
    return positions.get(())
