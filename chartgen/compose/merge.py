"""Writing the imported services into the datacenter text: after the last item of its
`services:` list, every other byte kept."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

# What a literal block cannot hold (YAML's non-printable characters, and a carriage return,
# which would read as a line break): such text is written double-quoted, with escapes.
_NOT_IN_A_BLOCK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\ufffe\uffff\u2028\u2029]")
_YAML11_SPECIAL = re.compile(r"^(?:y|n|yes|no|on|off|true|false|null|~)$", re.I)


@dataclass(frozen=True)
class Merged:
    """The datacenter text with the services added; the added lines (1-based first line)."""

    text: str
    fragment: str
    first_line: int
    line_count: int


def services_yaml(specs: Sequence[Mapping[str, Any]]) -> str:
    """The services as a YAML block sequence (strings that would read as something else are
    quoted by the emitter; multi-line file contents as literal blocks where they can be)."""
    text = _dump([_styled(spec) for spec in specs])
    try:
        check = YAML(typ="safe", pure=True).load(text)
    except YAMLError:
        check = None
    if check == [dict(spec) for spec in specs]:
        return text
    return _dump([dict(spec) for spec in specs])  # plain styles: the emitter's own choice


def _dump(items: list[Any]) -> str:
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # no folding of long values
    stream = io.StringIO()
    yaml.dump(items, stream)
    lines = stream.getvalue().splitlines()
    margin = min(len(line) - len(line.lstrip(" ")) for line in lines if line.strip())
    return "".join(line[margin:] + "\n" for line in lines)


def _styled(value: Any) -> Any:
    if isinstance(value, Mapping):
        styled = CommentedMap()
        for key, item in value.items():
            styled[key] = _styled(item)
        return styled
    if isinstance(value, list):
        return CommentedSeq(_styled(item) for item in value)
    if (
        isinstance(value, str)
        and "\n" in value.rstrip("\n")
        and value.endswith("\n")
        and not _NOT_IN_A_BLOCK.search(value)
    ):
        return LiteralScalarString(value)
    if isinstance(value, str) and _YAML11_SPECIAL.match(value):
        return SingleQuotedScalarString(value)  # a boolean or null to YAML 1.1 readers
    return value


def merge_services(text: str, specs: Sequence[Mapping[str, Any]], compose_source: str) -> Merged:
    """`text` with `specs` added at the end of its `services:` list.

    A block list gets the new items as text after its last item, at the same indentation, so
    that the rest of the file is kept byte for byte; a flow list (`services: [...]`) is
    rewritten by ruamel's round-trip dumper (comments and order kept, spacing normalised).
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    header = f"# Imported from {compose_source} by `chartgen import compose`."
    body = services_yaml(specs)
    placed = _insertion_point(text)
    if placed is None:
        return _merge_by_dumping(text, specs, header)
    offset, first_line, dash_column, spaced = placed
    indent = " " * dash_column
    items = _split_items(body)
    separator = "\n" if spaced else ""
    fragment = separator + indent + header + "\n"
    fragment += separator.join(
        "".join(indent + line if line.strip() else line for line in item.splitlines(True))
        for item in items
    )
    prefix = text[:offset]
    if prefix and not prefix.endswith(("\n", "\r")):
        prefix += newline
    inserted = fragment.replace("\n", newline)
    merged = prefix + inserted + text[offset:]
    return Merged(merged, header + "\n" + body, first_line, fragment.count("\n"))


def _split_items(body: str) -> list[str]:
    """A dumped block sequence, one text per item (each ending in a newline)."""
    items: list[str] = []
    for line in body.splitlines(True):
        if line.startswith("- ") or not items:
            items.append(line)
        else:
            items[-1] += line
    return items


def _insertion_point(text: str) -> tuple[int, int, int, bool] | None:
    """(offset, 1-based line, column of the items' dash, items separated by blank lines) of
    the place after the last item of a block `services:` list, or None."""
    try:
        root = YAML(typ="rt", pure=True).compose(text)
    except YAMLError:
        return None
    if not isinstance(root, MappingNode):
        return None
    sequence = next(
        (
            value
            for key, value in root.value
            if isinstance(key, ScalarNode) and key.value == "services"
        ),
        None,
    )
    if not isinstance(sequence, SequenceNode) or sequence.flow_style or not sequence.value:
        return None
    lines = text.splitlines(True)
    dash_columns = set()
    for item in sequence.value:
        line = lines[item.start_mark.line]
        before = line[: item.start_mark.column]
        match = re.fullmatch(r"( *)- +", before)
        if match is None:
            return None
        dash_columns.add(len(match.group(1)))
    if len(dash_columns) != 1:
        return None
    last = sequence.value[-1]
    end = _end_mark(last)
    if end is None or end.line < last.start_mark.line:
        return None  # ends in an alias: its marks are the anchor's
    end_line = end.line if end.column == 0 and end.line > last.start_mark.line else end.line + 1
    offset = sum(len(line) for line in lines[:end_line])
    spaced = any(
        lines[item.start_mark.line - 1].strip() == ""
        for item in sequence.value[1:]
        if item.start_mark.line > 0
    )
    return offset, end_line + 1, dash_columns.pop(), spaced


def _end_mark(node: Node) -> Any:
    if isinstance(node, ScalarNode):
        return node.end_mark
    if isinstance(node, (MappingNode, SequenceNode)):
        if node.flow_style or not node.value:
            return node.end_mark
        last = node.value[-1]
        return _end_mark(last[1] if isinstance(node, MappingNode) else last)
    return None


def _merge_by_dumping(text: str, specs: Sequence[Mapping[str, Any]], header: str) -> Merged:
    from ruamel.yaml.util import load_yaml_guess_indent

    tree, indent, block_seq_indent = load_yaml_guess_indent(text)
    services = tree["services"]
    services.fa.set_block_style()  # a comment cannot sit inside a flow list
    first_index = len(services)
    for spec in specs:
        services.append(_styled(spec))
    services.yaml_set_comment_before_after_key(first_index, before=header.removeprefix("# "))
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(
        mapping=indent or 2,
        sequence=(indent or 2) + (block_seq_indent or 0),
        offset=block_seq_indent or 0,
    )
    yaml.width = 4096
    stream = io.StringIO()
    yaml.dump(tree, stream)
    merged = stream.getvalue()
    body = services_yaml(specs)
    return Merged(merged, header + "\n" + body, merged.count("\n") + 1, 0)
