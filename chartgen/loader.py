"""Reads datacenter.yaml into plain data plus a position index, refusing YAML hazards.

The round-trip loader keeps line and column of every key and value. Before anything is
constructed, the composed node graph is checked: only the YAML core tags are allowed (so
`!!python/...` is never constructed), and the size the document would have with every alias
expanded is bounded, so an alias bomb is refused without being expanded.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from chartgen.loader_fast import MIN_CHARS as FAST_PATH_MIN_CHARS
from chartgen.loader_fast import compose_tree
from chartgen.problems import Problem, format_path
from chartgen.yaml_advice import yaml_advice

MAX_INPUT_BYTES = 8 * 1024 * 1024
MAX_ALIAS_EXPANSION = 100_000
MAX_DEPTH = 64
# No field of the format holds more than a 64-bit integer (Kubernetes' own fields are int32 or
# int64), and Python refuses to parse integers of more than 4300 digits with a ValueError.
MAX_INTEGER = 2**63 - 1
_MAX_INTEGER_TEXT = 64
_INT_TAG = "tag:yaml.org,2002:int"
# What ruamel counts lines by in its marks (YAML 1.2 line breaks: NEL, LS and PS are not), so
# that every position agrees with its own (and with `grep -n` and vim).
_LINE_BREAK = re.compile("\r\n|[\r\n]")

_CORE_TAGS = frozenset(
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp")
)

Position = tuple[int, int]
PathPart = str | int


@dataclass(frozen=True)
class Document:
    """A loaded datacenter.yaml: plain data for validation, the ruamel tree for positions."""

    source: str
    data: dict[str, Any]
    tree: CommentedMap
    text: str = ""  # as read: a message may quote a value as it was written (1.30, not 1.3)

    def position(self, path: Sequence[PathPart]) -> Position:
        return position_of(self.tree, path)

    def key_position(self, path: Sequence[PathPart]) -> Position:
        """Position of the key that ends `path` (for an unknown key: the key, not its value)."""
        parent = position_of(self.tree, path[:-1])
        node: Any = self.tree
        for part in path[:-1]:
            located = _child_position(node, part)
            if located is None:
                return parent
            node = located[1]
        if isinstance(node, CommentedMap) and path and path[-1] in node:
            return _key_position(node, str(path[-1]))
        return parent


@dataclass(frozen=True)
class LoadResult:
    document: Document | None
    problems: tuple[Problem, ...]


def load_file(path: str) -> LoadResult:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as error:
        return _fail(path, 1, 1, f"cannot read the file: {error.strerror or error}")
    return load_bytes(raw, path, fast=True)


def load_bytes(raw: bytes, source: str, *, fast: bool = False) -> LoadResult:
    if len(raw) > MAX_INPUT_BYTES:
        return _fail(source, 1, 1, f"file is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _offset_position(raw, error.start)
        return _fail(source, line, column, f"not valid UTF-8 (byte 0x{raw[error.start]:02x})")
    return load_text(text.removeprefix("\ufeff"), source, fast=fast)


def load_text(text: str, source: str, *, fast: bool = False) -> LoadResult:
    """`fast`: try libyaml first (chartgen.loader_fast) on a large text, for a reader of the
    data and its positions only: its tree has plain scalars and no comments, so a caller that
    writes the text back (import compose) takes ruamel's round trip."""
    if fast and len(text) >= FAST_PATH_MIN_CHARS:
        tree = compose_tree(text, MAX_DEPTH)
        if tree is not None:
            return LoadResult(Document(source, _plain(tree), tree, text), ())
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        constructor, parser = yaml.get_constructor_parser(text)
    except ReaderError as error:  # the reader checks every character when it is given the text
        breaks = list(_LINE_BREAK.finditer(text, 0, error.position))
        line = len(breaks) + 1
        column = error.position - (breaks[-1].end() if breaks else 0) + 1
        code = error.character if isinstance(error.character, int) else 0
        return _fail(source, line, column, f"YAML: character U+{code:04X} is not allowed")
    _limit_composer_depth(constructor.composer)
    try:
        node = constructor.composer.get_single_node()
        if node is None:
            return _fail(source, 1, 1, "file is empty: expected a datacenter document")
        hazard = _node_hazard(node)
        if hazard is not None:
            return LoadResult(None, (hazard._replace_file(source),))
        if not isinstance(node, MappingNode):
            line, column = _mark(node)
            return _fail(
                source, line, column, "top level must be a mapping (apiVersion, kind, ...)"
            )
        tree = constructor.construct_document(node)
    except MarkedYAMLError as error:
        advice = yaml_advice(error, text)
        return _fail(source, advice.line, advice.column, advice.message)
    except YAMLError as error:
        return _fail(source, 1, 1, f"YAML: {' '.join(str(error).split())}")
    except _Refused as refused:  # from the composer: too deep to compose at all
        line, column = _mark(refused.node)
        return _fail(source, line, column, refused.message)
    except RecursionError:
        return _fail(source, 1, 1, f"nesting is deeper than {MAX_DEPTH} levels")
    finally:
        parser.dispose()
    return LoadResult(Document(source, _plain(tree), tree, text), ())


def _limit_composer_depth(composer: Any) -> None:
    """Stops ruamel's recursive composer at MAX_DEPTH, at the node that goes too deep: left
    alone, thousands of levels take seconds to end in a RecursionError without a position."""
    compose_node = composer.compose_node
    depth = 0

    def limited(parent: Any, index: Any) -> Any:
        nonlocal depth
        depth += 1
        try:
            if depth > MAX_DEPTH + 1:  # the root is composed at depth 1, checked as level 0
                event = composer.parser.peek_event()
                raise _Refused(
                    ScalarNode("", "", event.start_mark),
                    f"nesting is deeper than {MAX_DEPTH} levels",
                )
            return compose_node(parent, index)
        finally:
            depth -= 1

    composer.compose_node = limited


@dataclass(frozen=True)
class _Hazard:
    line: int
    column: int
    message: str
    path: str = ""

    def _replace_file(self, source: str) -> Problem:
        return Problem(self.line, self.column, self.path, self.message, file=source)


def _node_hazard(root: Node) -> _Hazard | None:
    """First tag, depth or alias hazard in the node graph, walking each node once.

    An alias reuses its anchored node, so a node met again costs its whole subtree a second
    time once expanded; that cost is summed without expanding anything.
    """
    sizes: dict[int, int] = {}
    alias_expansion = 0

    def walk(node: Node, parent: Node, depth: int, path: tuple[PathPart, ...]) -> int:
        nonlocal alias_expansion
        key = id(node)
        if key in sizes:
            alias_expansion += sizes[key]
            if alias_expansion > MAX_ALIAS_EXPANSION:
                raise _Refused(
                    parent,
                    f"aliases would expand the document by more than {MAX_ALIAS_EXPANSION} nodes",
                    path[:-1],
                )
            return sizes[key]
        if depth > MAX_DEPTH:
            raise _Refused(node, f"nesting is deeper than {MAX_DEPTH} levels", path)
        if node.tag not in _CORE_TAGS:
            raise _Refused(node, f"tag {_short_tag(node.tag)} is not allowed", path)
        if isinstance(node, ScalarNode):
            _check_scalar(node, path)
        size = 1
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                name = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
                size += walk(key_node, node, depth + 1, path)
                size += walk(value_node, node, depth + 1, (*path, name))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                size += walk(item, node, depth + 1, (*path, index))
        sizes[key] = size
        return size

    try:
        walk(root, root, 0, ())
    except _Refused as refused:
        line, column = _mark(refused.node)
        return _Hazard(line, column, refused.message, format_path(refused.path))
    return None


def _check_scalar(node: ScalarNode, path: tuple[PathPart, ...] = ()) -> None:
    text = str(node.value)
    if any("\ud800" <= character <= "\udfff" for character in text):
        # JSON escapes a character beyond U+FFFF as a surrogate pair ("\ud83d\ude00"), which
        # ruamel leaves as two halves: they are joined here. A half alone is no character,
        # and no UTF-8 file can hold it.
        try:
            node.value = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        except UnicodeDecodeError:
            raise _Refused(
                node, "string holds a lone UTF-16 surrogate, not a character", path
            ) from None
    garbled = next((c for c in str(node.value) if "\x7f" <= c <= "\x9f"), None)
    if garbled is not None:
        # Escaped ("\x7f", "\u0085"), YAML accepts them; Helm's YAML writer (toYaml) then
        # drops or mangles them, so the chart would not carry the text that was written.
        raise _Refused(
            node,
            f"string holds U+{ord(garbled):04X}, a control character Helm's YAML writer "
            "drops (DEL and U+0080 to U+009F cannot be carried into a chart)",
            path,
        )
    if node.tag == _INT_TAG and _integer_too_large(text):
        raise _Refused(node, f"integer is out of range (at most {MAX_INTEGER})", path)


def _integer_too_large(text: str) -> bool:
    if len(text) > _MAX_INTEGER_TEXT:
        return True
    digits = text.replace("_", "")
    for base in (0, 10):
        try:
            return abs(int(digits, base)) > MAX_INTEGER
        except ValueError:
            continue
    return False  # not a Python literal (YAML 1.1 sexagesimal, 1:30): left to ruamel


class _Refused(Exception):
    def __init__(self, node: Node, message: str, path: tuple[PathPart, ...] = ()) -> None:
        super().__init__(message)
        self.node = node
        self.message = message
        self.path = path


def _short_tag(tag: str | None) -> str:
    tag = tag or "?"
    if tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag.removeprefix("tag:yaml.org,2002:")
    return tag


def _mark(node: Node) -> Position:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _offset_position(raw: bytes, offset: int) -> Position:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def _fail(source: str, line: int, column: int, message: str) -> LoadResult:
    return LoadResult(None, (Problem(line, column, "", message, file=source),))


def _plain(value: Any) -> Any:
    """ruamel's round-trip types to plain JSON-like Python values."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return bool(value) if type(value).__name__ == "ScalarBoolean" else int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def written_token(text: str, position: Position) -> str | None:
    """The plain scalar as written at `position` (1-based), e.g. `1.30` where YAML read 1.3."""
    lines = _LINE_BREAK.split(text)
    line, column = position
    if not 0 < line <= len(lines):
        return None
    found = re.match(r"[^\s,\]}#]+", lines[line - 1][column - 1 :])
    return found.group() if found else None


def position_of(tree: CommentedMap, path: Sequence[PathPart]) -> Position:
    """Line and column (1-based) of the value at `path`.

    Where the path leaves the document (a missing key), the position of the deepest
    existing value is returned: the key or block that should have held it.
    """
    position: Position = (1, 1)
    node: Any = tree
    for part in path:
        located = _child_position(node, part)
        if located is None:
            break
        position, node = located
    return position


def _child_position(node: Any, part: PathPart) -> tuple[Position, Any] | None:
    if isinstance(node, CommentedMap) and isinstance(part, str) and part in node:
        child = node[part]
        try:
            if isinstance(child, (CommentedMap, CommentedSeq)) and child:
                line, column = child.lc.line, child.lc.col
            else:
                line, column = node.lc.value(part)
        except (KeyError, TypeError):
            return _key_position(node, part), child
        return (line + 1, column + 1), child
    if isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
        child = node[part]
        try:
            line, column = node.lc.item(part)
        except (KeyError, TypeError):
            return (node.lc.line + 1, node.lc.col + 1), child
        return (line + 1, column + 1), child
    return None


def _key_position(node: CommentedMap, key: str) -> Position:
    try:
        line, column = node.lc.key(key)
    except (KeyError, TypeError):
        line, column = node.lc.line, node.lc.col
    return line + 1, column + 1
