"""The libyaml fast path of the loader agrees with ruamel's round trip wherever it answers.

The property: whenever `compose_tree` returns a tree, ruamel's loader accepts the same text with
no problem, gives the same data, and every mapping, key, value and item carries the same line
and column. Checked on every YAML file of the test cases, on mutations of them (characters
that matter to YAML inserted, deleted, replaced), and on drawn documents with hostile scalars.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from chartgen import loader
from chartgen.loader import MAX_DEPTH, load_file, load_text
from chartgen.loader_fast import MIN_CHARS, compose_tree
from tests.conftest import case_dirs

REPO = Path(__file__).resolve().parent.parent
YAML_FILES = sorted(
    {REPO / "datacenter.yaml", *(REPO / "tests" / "cases").rglob("*.yaml")}
    | set((REPO / "tests" / "cases").rglob("*.yml"))
)
DERANDOMIZED = os.environ.get("CHARTGEN_FUZZ_PROFILE", "ci") == "ci"
PROPERTY = settings(
    max_examples=300 if DERANDOMIZED else 3000,
    derandomize=DERANDOMIZED,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _marks(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every position ruamel records in a tree, with the path it belongs to."""
    if isinstance(node, CommentedMap):
        yield (path, "map", node.lc.line, node.lc.col)
        for key, value in node.items():
            yield (path, "key", key, tuple(node.lc.data[key]))
            yield from _marks(value, (*path, key))
    elif isinstance(node, CommentedSeq):
        yield (path, "seq", node.lc.line, node.lc.col)
        for index, value in enumerate(node):
            yield (path, "item", index, tuple(node.lc.data[index]))
            yield from _marks(value, (*path, index))


def _agrees(text: str) -> bool:
    """Checks the property on one text; True when the fast path answered."""
    tree = compose_tree(text, MAX_DEPTH)
    if tree is None:
        return False
    reference = load_text(text, "f.yaml")
    assert reference.problems == (), f"the fast path accepted what ruamel refuses: {text!r}"
    assert reference.document is not None
    fast = load_text(text, "f.yaml", fast=True).document
    assert fast is not None
    assert fast.data == reference.document.data
    assert [type(v) for v in _leaves(fast.data)] == [
        type(v) for v in _leaves(reference.document.data)
    ]
    assert list(_marks(tree)) == list(_marks(reference.document.tree))
    return True


def _leaves(data: Any) -> Iterator[Any]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from _leaves(value)
    elif isinstance(data, list):
        for item in data:
            yield from _leaves(item)
    else:
        yield data


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_agrees_on_every_yaml_file_of_the_cases(path: Path) -> None:
    _agrees(path.read_text(encoding="utf-8", errors="replace"))


def test_answers_for_every_valid_case_and_the_example() -> None:
    """The fast path is taken for the files people write (ASCII, plain YAML), so `build`
    is fast where it matters; a silent fallback everywhere would pass the test above."""
    texts = [REPO / "datacenter.yaml", *(case / "datacenter.yaml" for case in case_dirs("valid"))]
    declined = [str(path) for path in texts if not _agrees(path.read_text(encoding="utf-8"))]
    assert declined == []


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchors and aliases
        "a: !!str 1\n",  # tags
        "a: 1\na: 2\n",  # duplicate keys (ruamel refuses)
        "a: 2001-12-14\n",  # a timestamp
        "a: 0x1F\nb: 0o17\n",  # numbers in other forms
        "a: 012\n",
        "a: 1_000\n",
        "a: .inf\n",
        "a: 99999999999999999999\n",  # beyond 64 bits: the loader's own message
        "a: caf\u00e9\n",  # non-ASCII: columns and checks are ruamel's
        'a: "\\x7f"\n',  # an escape the loader refuses
        'a: "\\u00e9"\n',
        "a: 1\r\nb: 2\r\n",  # carriage returns
        "<<: {a: 1}\n",  # a merge key
        "? [a]\n: 1\n",  # a complex key
        "- a\n- b\n",  # not a mapping at the top
        "",
        "a: 1\n---\nb: 2\n",  # two documents
        "a:\nb: 1\n",  # an empty value
        "a: [1, 2\n",  # a syntax error
        "a:\n" + "".join(f"{'  ' * depth}b{depth}:\n" for depth in range(1, MAX_DEPTH + 2)),
    ],
)
def test_gives_up_where_ruamel_must_decide(text: str) -> None:
    assert compose_tree(text, MAX_DEPTH) is None


def test_load_file_takes_the_fast_path_and_keeps_ruamel_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "datacenter.yaml"
    padding = "#" * MIN_CHARS + "\n"  # a large file: the fast path's
    path.write_text(padding + "a: 1\nb: [x, {c: d}]\n", encoding="utf-8")
    taken: list[str] = []
    monkeypatch.setattr(loader, "compose_tree", _recording(taken))
    loaded = load_file(str(path))
    assert loaded.document is not None
    assert loaded.document.position(["b", 1, "c"]) == (3, 12)
    assert taken == ["tree"]
    path.write_text(padding + "a: 1\na: 2\n", encoding="utf-8")
    refused = load_file(str(path))
    assert refused.document is None
    assert [(p.line, p.column) for p in refused.problems] == [(3, 1)]
    assert "duplicate key" in refused.problems[0].message
    assert taken == ["tree", "none"]  # asked, gave up, ruamel said why


def test_small_files_go_the_round_trip_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing PyYAML costs more than ruamel's parse of a small file."""
    taken: list[str] = []
    monkeypatch.setattr(loader, "compose_tree", _recording(taken))
    path = tmp_path / "datacenter.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    assert load_file(str(path)).document is not None
    assert taken == []


def _recording(taken: list[str]) -> Any:
    def recorded(text: str, max_depth: int) -> Any:
        tree = compose_tree(text, max_depth)
        taken.append("none" if tree is None else "tree")
        return tree

    return recorded


# Characters that change how YAML reads a text: structure, quoting, typing, comments, escapes.
_SPECIALS = [*":-?,[]{}#&*!|>'\"%@`\\ \t\n0123456789.+_~eEnNtTfFxo", "\u00e9", "\r", "\x85"]
_SOURCES = [
    path.read_text(encoding="utf-8", errors="replace")
    for path in YAML_FILES
    if path.stat().st_size < 4000
]


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(_SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.text(st.sampled_from(_SPECIALS), min_size=1, max_size=3))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + len(piece) :]
        else:
            text = text[:at] + piece + text[at + len(piece) :]
    return text


@PROPERTY
@given(_mutated())
def test_agrees_on_mutated_case_files(text: str) -> None:
    _agrees(text)


# Mostly what the fast path reads (printable ASCII), so that it answers often enough to be tested.
_SCALAR = st.text(
    st.sampled_from([c for c in _SPECIALS if " " <= c <= "~"] + list("abcyesNoNULL")), max_size=8
) | st.text(st.sampled_from(_SPECIALS), max_size=4)


@st.composite
def _documents(draw: st.DrawFn) -> str:
    """Mappings and lists in block and flow style, scalars plain or quoted."""
    lines = []
    for index in range(draw(st.integers(1, 6))):
        scalar = draw(_SCALAR)
        style = draw(
            st.sampled_from(["plain", "single", "double", "flow", "block-list", "literal"])
        )
        if style == "plain":
            lines.append(f"k{index}: {scalar}")
        elif style == "single":
            lines.append(f"k{index}: '{scalar}'")
        elif style == "double":
            lines.append(f'k{index}: "{scalar}"')
        elif style == "flow":
            lines.append(f"k{index}: {{x: {scalar}, y: [{scalar}, 1]}}")
        elif style == "block-list":
            lines.append(f"k{index}:\n  - {scalar}\n  - n: {scalar}")
        else:
            header = draw(st.sampled_from(["|", "|-", "|+", ">", "|2", "| #c"]))
            body = draw(st.lists(_SCALAR, max_size=4))
            indents = draw(st.lists(st.sampled_from(["  ", "   ", " ", ""]), min_size=4))
            block = "".join(f"{indent}{row}\n" for indent, row in zip(indents, body, strict=False))
            lines.append(f"k{index}: {header}\n{block}".rstrip("\n"))
    return "\n".join(lines) + "\n"


@PROPERTY
@given(_documents())
def test_agrees_on_drawn_documents(text: str) -> None:
    _agrees(text)
