"""Limits: oversized input, deep nesting, aliases, huge numbers and many services end in exit 1
with a position (or validate in reasonable time), never in a traceback."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from chartgen.cli import main
from chartgen.loader import MAX_ALIAS_EXPANSION, MAX_DEPTH, MAX_INPUT_BYTES, MAX_INTEGER
from tests.conftest import CASES

BASE = (CASES / "valid" / "single-node" / "datacenter.yaml").read_text()


def _validate(tmp_path: Path, text: str | bytes) -> tuple[int, str]:
    source = tmp_path / "datacenter.yaml"
    if isinstance(text, str):
        text = text.encode("utf-8")
    source.write_bytes(text)
    result = CliRunner().invoke(main, ["validate", str(source)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def _position(stderr: str) -> tuple[int, int]:
    match = re.match(r"^.+datacenter\.yaml:(\d+):(\d+): ", stderr)
    assert match is not None, stderr
    return int(match[1]), int(match[2])


def test_input_larger_than_the_limit_is_refused(tmp_path: Path) -> None:
    padding = "# " + "x" * 1000 + "\n"
    text = BASE + padding * (MAX_INPUT_BYTES // len(padding) + 1)
    exit_code, stderr = _validate(tmp_path, text)
    assert exit_code == 1
    assert _position(stderr) == (1, 1)
    assert "larger than 8 MiB" in stderr


@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_deeper_than_the_limit_is_refused_with_a_position(
    tmp_path: Path, style: str
) -> None:
    depth = MAX_DEPTH + 10
    if style == "flow":
        nested = "[" * depth + "1" + "]" * depth
    else:
        nested = "".join(f"\n{'  ' * (level + 3)}k{level}:" for level in range(depth)) + " 1"
    text = BASE.replace("  description: Everything", f"  extra: {nested}\n  description: x", 1)
    exit_code, stderr = _validate(tmp_path, text)
    assert exit_code == 1
    line, _column = _position(stderr)
    assert 8 <= line <= 8 + depth
    assert f"nesting is deeper than {MAX_DEPTH} levels" in stderr


def test_nesting_far_beyond_the_recursion_limit_is_refused_not_a_recursion_error(
    tmp_path: Path,
) -> None:
    depth = 5_000  # far beyond Python's recursion limit (1000)
    text = "a: " + "[" * depth + "]" * depth + "\n"
    exit_code, stderr = _validate(tmp_path, text)
    assert exit_code == 1
    assert _position(stderr) == (1, 4 + MAX_DEPTH)  # the first bracket too deep
    assert f"nesting is deeper than {MAX_DEPTH} levels" in stderr


def test_an_alias_bomb_is_refused_with_a_position(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    exit_code, stderr = _validate(tmp_path, "\n".join(lines) + "\n")
    assert exit_code == 1
    line, _column = _position(stderr)
    assert 2 <= line <= 9
    assert f"more than {MAX_ALIAS_EXPANSION} nodes" in stderr


@pytest.mark.parametrize(
    "number", [str(MAX_INTEGER + 1), "-" + str(MAX_INTEGER + 2), "9" * 5000, "0x" + "f" * 17]
)
def test_an_integer_beyond_64_bits_is_refused_with_its_position(
    tmp_path: Path, number: str
) -> None:
    # A 5000-digit integer used to escape as Python's ValueError (int max str digits).
    text = BASE.replace(
        "    replicas: 1\n  - name: cloud", f"    replicas: {number}\n  - name: cloud"
    )
    exit_code, stderr = _validate(tmp_path, text)
    assert exit_code == 1
    assert _position(stderr) == (26, 15)
    assert "integer is out of range" in stderr


@pytest.mark.parametrize("number", ["3.0", "1e300", "2.0e0"])
def test_an_integer_field_refuses_a_whole_float(tmp_path: Path, number: str) -> None:
    # JSON Schema counts 3.0 as an integer; a replica count of 1e+300 used to be rendered.
    text = BASE.replace(
        "    replicas: 1\n  - name: cloud", f"    replicas: {number}\n  - name: cloud"
    )
    exit_code, stderr = _validate(tmp_path, text)
    assert exit_code == 1
    assert stderr.startswith(f"{tmp_path / 'datacenter.yaml'}:26:15: services[0].replicas: ")
    assert "expected an integer, got number" in stderr


def test_a_lone_surrogate_escape_is_refused_and_a_pair_is_one_character(tmp_path: Path) -> None:
    lone = BASE.replace("  description: Everything", '  description: "\\udc00"\n  #', 1)
    exit_code, stderr = _validate(tmp_path, lone)
    assert exit_code == 1
    assert _position(stderr) == (9, 16)
    assert "lone UTF-16 surrogate" in stderr
    pair = BASE.replace("  description: Everything", '  description: "\\ud83d\\ude00"\n  #', 1)
    exit_code, stderr = _validate(tmp_path, pair)
    assert exit_code == 0, stderr


def _many_services(count: int) -> str:
    head = (CASES / "valid" / "nginx-200" / "datacenter.yaml").read_text().split("services:")[0]
    services = "".join(
        f"  - {{name: web-{index:05d}, type: nginx, replicas: 2}}\n" for index in range(count)
    )
    return head + "services:\n" + services


# Measured on the 2-core test machine: 10,000 services take about 8 s through the CLI, most of
# it in ruamel's pure-Python round-trip parser (linear in the input; the rules are linear too).
SECONDS_FOR_10_000 = 60


def test_ten_thousand_services_validate_in_reasonable_time(tmp_path: Path) -> None:
    text = _many_services(10_000)
    started = time.monotonic()
    exit_code, stderr = _validate(tmp_path, text)
    elapsed = time.monotonic() - started
    assert exit_code == 0, stderr[:2000]
    assert elapsed < SECONDS_FOR_10_000
