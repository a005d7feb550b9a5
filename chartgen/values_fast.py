"""The fast path of `chartgen.values.merge_values`: the same bytes as the ruamel round trip.

A blueprint's values.yaml is compiled once per process (cached on its whole text) into a tree
of entries: block mappings of `key: scalar`, nested block mappings, block sequences of scalars,
and the comment / blank lines ("trivia") that follow each line. The round trip attaches each
run of trivia to the last node before it and drops the trivia of a node whose value is
replaced; the tree keeps that ownership so the output matches byte for byte:

- a replaced `key: scalar` (or `key: {}` / `key: []`) keeps the trivia after its line;
- a replaced block collection loses its lines and every trivia inside or after it.

Scalars are emitted here only when their style is certain: plain for simple strings that
YAML reads back as strings, double quotes for the YAML 1.1 look-alikes (`emit._YAML11_NOT_STRING`),
`''` for the empty string, ints and bools as written. Anything else (None, floats, strings with
YAML indicators, quotes, colons, newlines or great length, nested lists, trivia before the
first child of a replaced collection) returns None, and the caller does the round trip.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from chartgen.emit import round_trip_yaml, yaml11_not_string

INDENT = 2  # block mapping indent of the emitter; sequences: dash at +2, content at +4
_MAX_SCALAR = 200  # far below the emitter's width (4096): no line folding
_MAX_KEY = 100  # below the emitter's 128-character limit of an implicit key
# Characters that never make the emitter leave the plain style (no indicator, no `:` or `#`),
# starting with one that cannot begin a YAML indicator, single spaces between words.
# Plain in block context, as the emitter writes them: `:` only before another character,
# `#` never after a space, single spaces inside (tests compare with the emitter itself).
_SIMPLE = re.compile(r"[A-Za-z0-9/](?:[A-Za-z0-9._/()@+=,~%-]|:(?=[^ ])|#| (?! |$|#))*")
# The emitter's own resolver (YAML 1.2): a string it reads as another type is quoted.
_RESOLVER = VersionedResolver()
_STR_TAG = "tag:yaml.org,2002:str"
_KEY_LINE = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?")
_ITEM_LINE = re.compile(r"( *)- (.*)")


class NotFast(Exception):
    """The fast path does not model this input exactly: use the round trip."""


Kind = Literal["scalar", "map", "seq"]


@dataclass(frozen=True)
class Item:
    """A scalar item of a block sequence, and the trivia lines after it."""

    text: str
    trivia: tuple[str, ...]
    value: Any = None  # the item as YAML reads it


@dataclass(frozen=True)
class Entry:
    """One key of a block mapping.

    `trivia`: lines after the key's own line; for a scalar, after its value (kept when the value
    is replaced), for a collection, before its first child.
    """

    key: str
    indent: int
    kind: Kind
    text: str  # the emitted scalar (kind "scalar"), e.g. `80`, `''`, `{}`
    trivia: tuple[str, ...]
    children: tuple[Entry, ...] = ()
    items: tuple[Item, ...] = ()
    value: Any = None  # the scalar as YAML reads it (kind "scalar")

    @functools.cached_property
    def by_key(self) -> dict[str, Entry]:
        return {child.key: child for child in self.children}

    def data(self) -> Any:
        """The entry's value as plain data, a new structure on every call."""
        if self.kind == "map":
            return {child.key: child.data() for child in self.children}
        if self.kind == "seq":
            return [_copy_empty(item.value) for item in self.items]
        return _copy_empty(self.value)


@dataclass(frozen=True)
class Skeleton:
    head: tuple[str, ...]  # trivia before the first key
    root: Entry  # kind "map", key ""


def _copy_empty(value: Any) -> Any:
    """`{}`, `[]` and flow lists of words are the only mutable scalars of a skeleton: each
    caller gets its own copy."""
    if isinstance(value, dict):
        return {}
    if isinstance(value, list):
        return list(value)
    return value


def defaults(defaults_text: str) -> dict[str, Any] | None:
    """The blueprint's values as YAML reads them (a safe load), or None where the skeleton
    does not model the file and only a YAML parser is exact."""
    skeleton = compile_blueprint(defaults_text)
    if skeleton is None:
        return None
    data: dict[str, Any] = skeleton.root.data()
    return data


def merge(defaults_text: str, overrides: Mapping[str, Any], chart: str) -> str | None:
    """The merged values.yaml, or None where only the round trip is exact."""
    skeleton = compile_blueprint(defaults_text)
    if skeleton is None:
        return None
    _check_keys(skeleton.root, overrides, chart, "")
    lines = list(skeleton.head)
    try:
        _emit_children(skeleton.root, overrides, lines)
    except NotFast:
        return None
    return "".join(f"{line}\n" for line in lines)


def _check_keys(node: Entry, overrides: Mapping[str, Any], chart: str, prefix: str) -> None:
    """The round trip's KeyError for a key the blueprint lacks, in the same order."""
    for key, value in overrides.items():
        entry = node.by_key.get(key)
        if entry is None:
            raise KeyError(f"{chart}: values.yaml of the blueprint has no key {prefix}{key}")
        if isinstance(value, Mapping) and entry.kind == "map":
            _check_keys(entry, value, chart, f"{prefix}{key}.")


# --- emitting ----------------------------------------------------------------------------


def _emit_children(node: Entry, overrides: Mapping[str, Any], out: list[str]) -> None:
    for entry in node.children:
        if entry.key not in overrides:
            _emit_entry(entry, out)
            continue
        value = overrides[entry.key]
        if isinstance(value, Mapping) and entry.kind == "map":
            out.append(f"{' ' * entry.indent}{entry.key}:")
            out.extend(entry.trivia)
            _emit_children(entry, value, out)
            continue
        if entry.kind != "scalar" and entry.trivia:
            raise NotFast(f"replacing {entry.key}, whose first child has comments before it")
        value_lines(entry.indent, entry.key, value, out)
        if entry.kind == "scalar":
            out.extend(entry.trivia)


def _emit_entry(entry: Entry, out: list[str]) -> None:
    pad = " " * entry.indent
    if entry.kind == "scalar":
        out.append(f"{pad}{entry.key}: {entry.text}")
        out.extend(entry.trivia)
        return
    out.append(f"{pad}{entry.key}:")
    out.extend(entry.trivia)
    if entry.kind == "map":
        for child in entry.children:
            _emit_entry(child, out)
        return
    for item in entry.items:
        out.append(f"{pad}{' ' * INDENT}- {item.text}")
        out.extend(item.trivia)


def value_lines(indent: int, key: str, value: Any, out: list[str]) -> None:
    """`key: value` at `indent` in block style, as the round-trip emitter writes it."""
    pad = " " * indent
    name = key_text(key)
    if isinstance(value, Mapping) and value:
        out.append(f"{pad}{name}:")
        for child_key, child in value.items():
            value_lines(indent + INDENT, child_key, child, out)
    elif isinstance(value, list) and value:
        out.append(f"{pad}{name}:")
        for item in value:
            _item_lines(indent + INDENT, item, out)
    else:
        try:
            out.append(f"{pad}{name}: {scalar_text(value)}")
        except NotFast:
            out.extend(_round_trip_entry(indent, name, value))


def _item_lines(indent: int, item: Any, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(item, Mapping) and item:
        start = len(out)
        for key, value in item.items():
            value_lines(indent + INDENT, key, value, out)
        # The first key shares the dash's line.
        out[start] = f"{pad}- {out[start][indent + INDENT :]}"
    elif isinstance(item, list) and item:
        raise NotFast("a list directly inside a list")
    else:
        try:
            out.append(f"{pad}- {scalar_text(item)}")
        except NotFast:
            out.extend(_round_trip_item(indent, item))


_WRAPPER = "w"


@functools.lru_cache(maxsize=4096)
def _round_trip_entry(indent: int, key: str, value: Any) -> tuple[str, ...]:
    """`key: value` at column `indent`, for a string the fast path does not model (quotes,
    line breaks, folding): written by the round-trip emitter itself, at the same column, so
    that the bytes are those of the whole-file round trip. Costs one small dump, not a parse
    and dump of the whole blueprint."""
    lines = _emitted_at(indent, key, value)
    if not lines or not lines[0].startswith(f"{' ' * indent}{key}:"):
        raise NotFast(f"scalar {value!r}: emitted in an unexpected shape")
    return lines


def _round_trip_item(indent: int, item: Any) -> tuple[str, ...]:
    """`- item` at column `indent` (the list's key one level up), as `_round_trip_entry`."""
    if indent < INDENT:
        raise NotFast(f"scalar {item!r}")
    lines = _round_trip_list(indent - INDENT, item)
    if not lines or not lines[0].startswith(f"{' ' * indent}- "):
        raise NotFast(f"scalar {item!r}: emitted in an unexpected shape")
    return lines


@functools.lru_cache(maxsize=4096)
def _round_trip_list(indent: int, item: Any) -> tuple[str, ...]:
    lines = _emitted_at(indent, _WRAPPER, [item])
    if not lines or lines[0] != f"{' ' * indent}{_WRAPPER}:":
        raise NotFast(f"scalar {item!r}: emitted in an unexpected shape")
    return lines[1:]


def _emitted_at(indent: int, key: str, value: Any) -> tuple[str, ...]:
    """The lines the round-trip emitter writes for `key: value` nested at column `indent`
    (under wrapper keys, which are checked and dropped); a string, or a list of one."""
    scalar = value[0] if type(value) is list and len(value) == 1 else value
    if type(scalar) is not str or indent % INDENT:
        raise NotFast(f"scalar {scalar!r}")
    depth = indent // INDENT
    document: Any = {key: value}
    for _level in range(depth):
        document = {_WRAPPER: document}
    stream = io.StringIO()
    round_trip_yaml().dump(document, stream)
    lines = stream.getvalue().split("\n")
    if lines[-1] != "":
        raise NotFast(f"scalar {scalar!r}: no final line break")
    lines.pop()
    wrappers = [f"{' ' * (level * INDENT)}{_WRAPPER}:" for level in range(depth)]
    if lines[:depth] != wrappers:
        raise NotFast(f"scalar {scalar!r}: emitted in an unexpected shape")
    return tuple(lines[depth:])


def key_text(key: Any) -> str:
    if (
        isinstance(key, str)
        and len(key) <= _MAX_KEY
        and _SIMPLE.fullmatch(key)
        and not yaml11_not_string(key)
        and _reads_as_string(key)
    ):
        return key
    raise NotFast(f"key {key!r}")


def scalar_text(value: Any) -> str:
    """The emitted form of a scalar (or an empty collection) in block context."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if isinstance(value, Mapping) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    if type(value) is str:
        if value == "":
            return "''"
        if len(value) <= _MAX_SCALAR and _SIMPLE.fullmatch(value):
            if yaml11_not_string(value):
                return f'"{value}"'
            if _reads_as_string(value):
                return value
    raise NotFast(f"scalar {value!r}")


def _reads_as_string(text: str) -> bool:
    return bool(_RESOLVER.resolve(ScalarNode, text, (True, False)) == _STR_TAG)


# --- compiling a blueprint ----------------------------------------------------------------


@functools.cache
def compile_blueprint(text: str) -> Skeleton | None:
    """The blueprint's tree of lines, or None when it uses YAML this module does not model."""
    try:
        return _Compiler(text).skeleton()
    except NotFast:
        return None


class _Compiler:
    def __init__(self, text: str) -> None:
        if not text.endswith("\n") or "\r" in text or "\t" in text:
            raise NotFast("line endings or tabs")
        self.lines = text[:-1].split("\n")
        self.at = 0

    def skeleton(self) -> Skeleton:
        head = self._trivia()
        children = self._mapping(0)
        if self.at != len(self.lines):
            raise NotFast(f"line {self.at + 1}: unexpected")
        return Skeleton(head, Entry("", -INDENT, "map", "", (), children))

    def _trivia(self) -> tuple[str, ...]:
        found: list[str] = []
        while self.at < len(self.lines):
            line = self.lines[self.at]
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                break
            if not stripped and line:
                raise NotFast("a blank line with spaces")
            found.append(line.rstrip())
            self.at += 1
        return tuple(found)

    def _indent_of_next(self) -> int:
        if self.at >= len(self.lines):
            return -1
        line = self.lines[self.at]
        return len(line) - len(line.lstrip(" "))

    def _mapping(self, indent: int) -> tuple[Entry, ...]:
        entries: list[Entry] = []
        while self._indent_of_next() == indent:
            match = _KEY_LINE.fullmatch(self.lines[self.at])
            if match is None:
                raise NotFast(f"line {self.at + 1}: not `key: value`")
            key, rest = key_text(match.group(2)), match.group(3)
            self.at += 1
            if rest:
                text, value = _blueprint_scalar(rest)
                entries.append(Entry(key, indent, "scalar", text, self._trivia(), value=value))
                continue
            trivia = self._trivia()
            if self._indent_of_next() != indent + INDENT:
                raise NotFast(f"line {self.at}: a key without a value")
            if _ITEM_LINE.fullmatch(self.lines[self.at]):
                items = self._sequence(indent + INDENT)
                entries.append(Entry(key, indent, "seq", "", trivia, items=items))
            else:
                children = self._mapping(indent + INDENT)
                entries.append(Entry(key, indent, "map", "", trivia, children=children))
        if entries and self._indent_of_next() > indent:
            raise NotFast(f"line {self.at + 1}: unexpected indentation")
        return tuple(entries)

    def _sequence(self, indent: int) -> tuple[Item, ...]:
        items: list[Item] = []
        while self._indent_of_next() == indent:
            match = _ITEM_LINE.fullmatch(self.lines[self.at])
            if match is None:
                raise NotFast(f"line {self.at + 1}: not `- item`")
            self.at += 1
            text, value = _blueprint_scalar(match.group(2))
            items.append(Item(text, self._trivia(), value))
        return tuple(items)


_PLAIN_INT = re.compile(r"0|[1-9][0-9]*")


_FLOW_WORDS = re.compile(r"\[([A-Za-z0-9_./-]+(?:, [A-Za-z0-9_./-]+)*)\]")


def _blueprint_scalar(written: str) -> tuple[str, Any]:
    """How the round trip re-emits a scalar of the blueprint (quotes are not preserved), and
    the value YAML reads from it."""
    if written == "{}":
        return written, {}
    if written == "[]":
        return written, []
    flow = _FLOW_WORDS.fullmatch(written)
    if flow is not None:
        # A flow list of plain words ([/tmp], [ALL]): the round trip keeps its flow style.
        words = flow.group(1).split(", ")
        if all(_reads_as_string(word) for word in words):
            return written, words
        raise NotFast(f"flow sequence {written}")
    if len(written) >= 2 and written[0] == written[-1] and written[0] in "\"'":
        loaded = written[1:-1]
        if any(mark in loaded for mark in "\"'\\"):
            raise NotFast(f"quoted scalar {written}")
    elif written in ("true", "false"):
        return written, written == "true"
    elif _PLAIN_INT.fullmatch(written):
        return written, int(written)
    elif (
        " #" in written
        or ": " in written
        or written[0] in "-?:,[]{}#&*!|>'\"%@`"
        or not _reads_as_string(written)
    ):
        raise NotFast(f"plain scalar {written}")
    else:
        loaded = written
    try:
        return scalar_text(loaded), loaded
    except NotFast:
        return _round_trip_scalar(loaded), loaded


@functools.cache
def _round_trip_scalar(value: str) -> str:
    """A blueprint string outside the simple cases, emitted by the round-trip emitter itself
    (once per process: the blueprint's own strings, never user data)."""
    stream = io.StringIO()
    round_trip_yaml().dump({"k": value}, stream)
    emitted = stream.getvalue()
    if not emitted.startswith("k: ") or emitted.count("\n") != 1:
        raise NotFast(f"scalar {value!r} is not emitted on one line")
    return emitted[len("k: ") : -1]
