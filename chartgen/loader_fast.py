"""A fast path for loading the common datacenter.yaml: libyaml's parser, ruamel's tree.

ruamel's pure-Python round-trip parser takes most of a large build's time (0.5 s for 200
services). libyaml (PyYAML's C parser) reads the same text in a few milliseconds. This module
builds, from libyaml's events, the tree that ruamel's round-trip loader would build (the same
CommentedMap/CommentedSeq with the same line and column marks, plain scalars), and gives up
(returns None) on anything where the two could differ or where the loader must refuse the text
with a message of its own: non-ASCII, tabs or carriage returns, tags, anchors and aliases,
merge keys, duplicate keys, empty values, timestamps, numbers in other than their plainest
form, deep nesting, several documents, any YAML error. The caller then takes ruamel's path,
whose answer is the reference; tests/test_loader_fast.py checks that both agree wherever this
one answers.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

# Below this size ruamel's parse costs less than importing PyYAML (~14 ms): small files, the
# common datacenter.yaml among them, go the round-trip way directly.
MIN_CHARS = 16 * 1024

# Printable ASCII and line feeds: what both parsers read and count alike (libyaml takes a tab
# inside a plain scalar that ruamel refuses).
_PLAIN_TEXT = re.compile(r"[\n\x20-\x7e]*")
# A plain scalar's type is the one ruamel's resolver (YAML 1.2) gives it; its value is taken
# here only in the plainest forms, where no reading can differ (no 0x/0o, `_`, `.inf`, dates).
_RESOLVER = VersionedResolver(version=(1, 2))
_TAG = "tag:yaml.org,2002:"
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[1-9][0-9]{0,17}|[-+]?0")
_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?")


class _GiveUp(Exception):
    pass


def compose_tree(text: str, max_depth: int) -> CommentedMap | None:
    """ruamel's round-trip tree of `text`, or None where ruamel must decide."""
    if not _PLAIN_TEXT.fullmatch(text):
        return None
    from yaml import YAMLError

    try:
        from yaml._yaml import CParser
    except ImportError:  # PyYAML built without libyaml: the round-trip loader alone
        return None
    parser = CParser(text)
    try:
        return _Builder(parser, text, max_depth).document()
    except (_GiveUp, YAMLError):
        return None
    finally:
        parser.dispose()


# A literal block scalar's header alone on its line, its first line not blank. Folded scalars,
# other headers and leading blank lines are read differently by the two parsers at the edges
# (`>#`, blank lines more indented than the first), so they are left to ruamel.
_LITERAL_HEADER = re.compile(r"\|[-+]? *\n +[^ \n]")


class _Builder:
    def __init__(self, parser: Any, text: str, max_depth: int) -> None:
        from yaml import events

        self._events = events
        self._parser = parser
        self._text = text
        self._max_depth = max_depth

    def document(self) -> CommentedMap:
        self._expect(self._events.StreamStartEvent)
        self._expect(self._events.DocumentStartEvent)
        root = self._node(0)
        if not isinstance(root, CommentedMap):
            raise _GiveUp
        self._expect(self._events.DocumentEndEvent)
        self._expect(self._events.StreamEndEvent)
        return root

    def _expect(self, kind: type) -> None:
        if not isinstance(self._parser.get_event(), kind):
            raise _GiveUp

    def _node(self, depth: int) -> Any:
        if depth > self._max_depth:
            raise _GiveUp
        event = self._parser.get_event()
        if getattr(event, "anchor", None) is not None or getattr(event, "tag", None) is not None:
            raise _GiveUp
        if isinstance(event, self._events.ScalarEvent):
            if event.style in ("|", ">") and not _LITERAL_HEADER.match(
                self._text, _mark(event).index
            ):
                raise _GiveUp
            return _scalar(event)
        if isinstance(event, self._events.MappingStartEvent):
            return self._mapping(event, depth)
        if isinstance(event, self._events.SequenceStartEvent):
            return self._sequence(event, depth)
        raise _GiveUp  # an alias

    def _mapping(self, start: Any, depth: int) -> CommentedMap:
        mapping = CommentedMap()
        mapping._yaml_set_line_col(start.start_mark.line, start.start_mark.column)
        parser = self._parser
        while not parser.check_event(self._events.MappingEndEvent):
            key_mark = parser.peek_event().start_mark
            key = self._node(depth + 1)
            if isinstance(key, (CommentedMap, CommentedSeq)) or key in mapping:
                raise _GiveUp
            value_mark = parser.peek_event().start_mark
            mapping[key] = self._node(depth + 1)
            mapping._yaml_set_kv_line_col(
                key, [key_mark.line, key_mark.column, value_mark.line, value_mark.column]
            )
        parser.get_event()
        return mapping

    def _sequence(self, start: Any, depth: int) -> CommentedSeq:
        sequence = CommentedSeq()
        sequence._yaml_set_line_col(start.start_mark.line, start.start_mark.column)
        parser = self._parser
        while not parser.check_event(self._events.SequenceEndEvent):
            mark = parser.peek_event().start_mark
            sequence._yaml_set_idx_line_col(len(sequence), [mark.line, mark.column])
            sequence.append(self._node(depth + 1))
        parser.get_event()
        return sequence


def _mark(event: Any) -> Any:
    if event.start_mark is None:
        raise _GiveUp
    return event.start_mark


def _scalar(event: Any) -> Any:
    value: str = event.value
    if not value.isascii() or "\x7f" in value:
        raise _GiveUp  # escapes the loader checks with messages of its own
    if not event.implicit[0]:  # quoted or block: a string
        return value
    if not value:
        raise _GiveUp  # an empty value: ruamel marks it at the next token, libyaml before
    tag = str(_RESOLVER.resolve(ScalarNode, value, (True, False)))
    if tag == _TAG + "str":
        return value
    if tag == _TAG + "null":
        return None
    if tag == _TAG + "bool" and value in _BOOL:
        return _BOOL[value]
    if tag == _TAG + "int" and _INT.fullmatch(value):
        return int(value)
    if tag == _TAG + "float" and _FLOAT.fullmatch(value):
        return float(value)
    raise _GiveUp  # a timestamp, a merge key, a number in another form
