"""The variables Compose interpolates: `.env` (and `env_file`) parsing, and `${VAR}`
substitution in values."""

from __future__ import annotations

import re
from collections.abc import Mapping

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_dotenv(
    text: str,
) -> tuple[list[tuple[str, str | None, int]], list[tuple[int, int, str]]]:
    """An env file (`NAME=VALUE` lines, `#` comments, optional `export `, single quotes taken
    literally, double quotes with backslash escapes): (name, value or None, line) entries and
    (line, column, message) notes."""
    entries: list[tuple[str, str | None, int]] = []
    notes: list[tuple[int, int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        name, sep, value = stripped.partition("=")
        name = name.strip()
        if not _ENV_NAME.match(name):
            notes.append((number, 1, f"`{name}` is not a variable name: line skipped"))
            continue
        if not sep:
            entries.append((name, None, number))
            continue
        entries.append((name, _dotenv_value(value.lstrip()), number))
    return entries, notes


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def _dotenv_value(value: str) -> str:
    if value.startswith("'"):
        end = value.find("'", 1)
        return value[1:end] if end > 0 else value[1:]
    if value.startswith('"'):
        out: list[str] = []
        index = 1
        while index < len(value):
            character = value[index]
            if character == "\\" and index + 1 < len(value):
                following = value[index + 1]
                out.append(_ESCAPES.get(following, "\\" + following))
                index += 2
                continue
            if character == '"':
                break
            out.append(character)
            index += 1
        return "".join(out)
    comment = re.search(r"\s#", value)
    if comment is not None:
        value = value[: comment.start()]
    return value.rstrip()


def interpolate_text(text: str, variables: Mapping[str, str]) -> tuple[str, list[str]]:
    """Compose's interpolation of a value: `$$` is a `$`; `${NAME}`, `$NAME` and
    `${NAME:-default}` (and `-`, `?`, `:?`, `+`, `:+`) take the variables of the `.env` file.

    chartgen reads no environment of its own: a variable the `.env` does not set is kept as
    written (or takes its default) and noted. A `$` that starts nothing stays a `$`.
    """
    out: list[str] = []
    notes: list[str] = []
    index = 0
    while index < len(text):
        character = text[index]
        if character != "$" or index + 1 >= len(text):
            out.append(character)
            index += 1
            continue
        following = text[index + 1]
        if following == "$":
            out.append("$")
            index += 2
            continue
        if following == "{":
            end = _closing_brace(text, index + 2)
            if end < 0:
                out.append(text[index:])
                notes.append(f"`{text[index:]}`: unclosed `${{`; kept as written")
                break
            expression = text[index + 2 : end]
            out.append(_substitute(expression, text[index : end + 1], variables, notes))
            index = end + 1
            continue
        match = _VARIABLE_NAME.match(text, index + 1)
        if match is None:
            out.append("$")
            index += 1
            continue
        out.append(_substitute(match.group(0), text[index : match.end()], variables, notes))
        index = match.end()
    return "".join(out), notes


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    index = start
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _substitute(
    expression: str, written: str, variables: Mapping[str, str], notes: list[str]
) -> str:
    match = _VARIABLE_NAME.match(expression)
    if match is None:
        notes.append(f"`{written}` is not a variable: kept as written")
        return written
    name = match.group(0)
    rest = expression[match.end() :]
    operator = ""
    for candidate in (":-", ":?", ":+", "-", "?", "+"):
        if rest.startswith(candidate):
            operator = candidate
            break
    if rest and not operator:
        notes.append(f"`{written}` is not a variable: kept as written")
        return written
    argument = rest[len(operator) :]
    value = variables.get(name)
    empty_is_unset = operator.startswith(":")
    is_set = value is not None and (value != "" or not empty_is_unset)
    if operator in (":+", "+"):
        if is_set:
            replaced, inner = interpolate_text(argument, variables)
            notes.extend(inner)
            return replaced
        return ""
    if is_set:
        assert value is not None
        return value
    if operator in (":-", "-"):
        default, inner = interpolate_text(argument, variables)
        notes.extend(inner)
        notes.append(
            f"`{written}`: {name} is not set in .env, its default `{default}` is used (chartgen "
            "reads no environment)"
        )
        return default
    notes.append(
        f"`{written}`: {name} is not set in .env and kept as written (Compose takes it from "
        "the environment): write the value here"
    )
    return written
