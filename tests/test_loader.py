"""The loader: positions of values, and the YAML hazards it refuses."""

from __future__ import annotations

import time

import pytest

from chartgen.loader import Document, load_bytes, load_text

TEXT = """\
top: 1
block:
  - {name: a, items: [x, y]}
  - name: b
    nested:
      deep: true
empty: {}
"""


def _document(text: str = TEXT) -> Document:
    loaded = load_text(text, "f.yaml")
    assert loaded.document is not None, loaded.problems
    return loaded.document


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["top"], (1, 6)),
        (["block"], (3, 3)),
        (["block", 0], (3, 5)),
        (["block", 0, "name"], (3, 12)),
        (["block", 0, "items", 1], (3, 26)),
        (["block", 1, "name"], (4, 11)),
        (["block", 1, "nested", "deep"], (6, 13)),
        (["empty"], (7, 8)),
    ],
)
def test_position_of_existing_values(path: list[str | int], expected: tuple[int, int]) -> None:
    assert _document().position(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["block", 1, "missing"], (4, 5)),  # the block that should hold the key
        (["block", 0, "missing"], (3, 5)),  # a flow mapping
        (["block", 7, "name"], (3, 3)),  # an index past the end: the list
        (["absent", "deeper"], (1, 1)),  # nothing of the path exists: the document
    ],
)
def test_position_of_missing_values_is_the_enclosing_block(
    path: list[str | int], expected: tuple[int, int]
) -> None:
    assert _document().position(path) == expected


def test_key_position_points_at_the_key() -> None:
    assert _document().key_position(["block", 1, "nested"]) == (5, 5)


def test_plain_data_has_no_ruamel_types() -> None:
    data = _document("a: &x true\nb: *x\nc: 0x10\nd: 2024-01-02\n").data
    assert data == {"a": True, "b": True, "c": 16, "d": "2024-01-02"}
    assert type(data["a"]) is bool
    assert type(data["c"]) is int


def test_merge_keys_are_resolved() -> None:
    data = _document("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n").data
    assert data["c"] == {"x": 1, "y": 2}


def test_byte_order_mark_is_accepted() -> None:
    loaded = load_bytes("\ufeffa: 1\n".encode(), "f.yaml")
    assert loaded.document is not None
    assert loaded.document.data == {"a": 1}


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029"])
def test_lines_are_counted_by_line_feeds_only(separator: str) -> None:
    # Found by test_any_edit_ends_in_success_or_positioned_problems: YAML 1.2 (and ruamel's
    # marks) do not break lines at NEL, LS or PS; the position of a character refused by the
    # reader counted them, and pointed at a line the file does not have for `grep -n`.
    parser_error = load_text(f"a:\n  b: '4'{separator}  c: 1\n", "f.yaml")
    assert [(p.line, p.column) for p in parser_error.problems] == [(2, 12)]
    reader_error = load_text(f"a: 1{separator}b: \x07\n", "f.yaml")
    assert [(p.line, p.column, p.message) for p in reader_error.problems] == [
        (1, 9, "YAML: character U+0007 is not allowed")
    ]


def test_alias_bomb_is_refused_quickly_without_expansion() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, current in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{current}: &{current} [" + ", ".join([f"*{previous}"] * 10) + "]")
    started = time.perf_counter()
    loaded = load_text("\n".join(lines) + "\n", "bomb.yaml")
    assert time.perf_counter() - started < 1.0
    assert loaded.document is None
    assert "aliases would expand" in loaded.problems[0].message


def test_moderate_alias_reuse_is_fine() -> None:
    loaded = load_text("x: &x {a: 1}\ny: *x\nz: *x\n", "f.yaml")
    assert loaded.document is not None
    assert loaded.document.data["z"] == {"a": 1}


def test_very_deep_nesting_is_a_problem_not_a_recursion_error() -> None:
    loaded = load_text("a: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml")
    assert loaded.document is None
    assert "nesting" in loaded.problems[0].message


def test_oversized_input_is_refused() -> None:
    loaded = load_bytes(b"a: 1\n" + b"#" * (9 * 1024 * 1024), "big.yaml")
    assert loaded.document is None
    assert "larger than" in loaded.problems[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "nodes:\n  -name: a\n  - name: b\n",
            "2:3: YAML: '-name: a' has no space after '-', so it is not a list item: write "
            "`- name: a` (parser: expected <block end>, but found '-')",
        ),
        (
            "nodes:\n  - name: a\n    role: worker\n   - name: b\n",
            "4:4: YAML: this '-' is indented by 3 spaces, the block it belongs to (line 2) by 2 "
            "spaces: line up the items of one list, and give a nested list a key of its own "
            "(parser: expected <block end>, but found '<block sequence start>')",
        ),
        (
            "cluster:\n  kubernetesVersion: '1.31.4\n",
            "2:22: YAML: this quoted value is never closed: end it with ' (parser: found "
            "unexpected end of stream)",
        ),
        (
            "cluster: {cni: flannel\nnodes: []\n",
            "2:6: YAML: the mapping opened with '{' on line 1 is not closed: end it with '}' (and "
            "separate its items with ',') (parser: expected ',' or '}', but got ':')",
        ),
        (
            "cluster\n  cni: flannel\n",
            "1:1: YAML: 'cluster' is followed by no ':': write a key as `key: value` (parser: "
            "mapping values are not allowed here)",
        ),
        (
            "metadata:\n  name: a\ncluster\n  cni: flannel\n",
            "3:1: YAML: 'cluster' is followed by no ':': write a key as `key: value` (parser: "
            "could not find expected ':')",
        ),
        (
            "x: @foo\n",
            "1:4: YAML: a plain value cannot start with '@': put the value in quotes (parser: "
            "found character '@' that cannot start any token)",
        ),
        (
            "x: *foo\n",
            "1:4: YAML: *foo reads as a reference to an anchor &foo that the file does not "
            "define: put a value starting with '*' in quotes (parser: found undefined alias "
            "'foo')",
        ),
        (
            "cluster:\n  cni:\tflannel\n",
            "2:7: YAML: a tab character: YAML indents and separates with spaces only; replace it "
            "(parser: found character '\\t' that cannot start any token)",
        ),
    ],
)
def test_yaml_mistakes_say_what_to_fix(text: str, expected: str) -> None:
    """The parser's state-machine words become advice, at the place to edit."""
    loaded = load_text(text, "f.yaml")
    assert [problem.format() for problem in loaded.problems] == [f"f.yaml:{expected}"]


def test_a_refused_scalar_names_its_path() -> None:
    loaded = load_text("services:\n  - name: a\n    replicas: 99999999999999999999\n", "f.yaml")
    assert [problem.format() for problem in loaded.problems] == [
        "f.yaml:3:15: services[0].replicas: integer is out of range (at most 9223372036854775807)"
    ]
