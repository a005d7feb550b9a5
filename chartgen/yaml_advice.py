"""The YAML parser's complaints, said as what to change in the file.

ruamel reports what its state machine expected (`while parsing a block mapping, expected
<block end>, but found '<block mapping start>'`); a person meets that as an indentation slip, a
tab, a missing space after `:` or `-`, or an unclosed quote or bracket. Each common case gets
its advice, at the place to edit, with the parser's own words kept short in parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml.error import MarkedYAMLError

_LINE_BREAK = re.compile("\r\n|[\r\n]")
_KEY = re.compile(r"^\s*(?:-\s+)?([^\s:#][^:#]*?)\s*:(?:\s|$)")
_NO_SPACE_AFTER_COLON = re.compile(r"^\s*(?:-\s+)?([^\s:#'\"][^:#]*?):(\S.*)$")
_DASH_WITHOUT_SPACE = re.compile(r"^\s*-[^\s-]")


@dataclass(frozen=True)
class Advice:
    line: int  # 1-based
    column: int
    message: str


@dataclass(frozen=True)
class _Mark:
    line: int  # 0-based, as ruamel counts
    column: int


def yaml_advice(error: MarkedYAMLError, text: str) -> Advice:
    """Where and what to fix for a parser error (the parser's text alone when no case fits)."""
    lines = _LINE_BREAK.split(text)
    problem = _mark(error.problem_mark)
    context = _mark(error.context_mark)
    said = " ".join(str(error.problem or "").split())
    original = ", ".join(" ".join(str(p).split()) for p in (error.context, error.problem) if p)
    where = problem or context or _Mark(0, 0)
    found = _advise(said, str(error.context or ""), problem, context, lines)
    if found is None:
        return Advice(where.line + 1, where.column + 1, f"YAML: {original or 'invalid YAML'}")
    at, advice = found
    return Advice(at.line + 1, at.column + 1, f"YAML: {advice} (parser: {said})")


def _mark(mark: object) -> _Mark | None:
    if mark is None:
        return None
    return _Mark(int(getattr(mark, "line", 0)), int(getattr(mark, "column", 0)))


def _line(lines: list[str], mark: _Mark) -> str:
    return lines[mark.line] if 0 <= mark.line < len(lines) else ""


def _key_at(lines: list[str], mark: _Mark) -> str | None:
    found = _KEY.match(_line(lines, mark))
    return found.group(1) if found else None


def _spaces(count: int) -> str:
    return f"{count} space{'' if count == 1 else 's'}"


def _advise(  # one return per case of the parser
    said: str,
    context_text: str,
    problem: _Mark | None,
    context: _Mark | None,
    lines: list[str],
) -> tuple[_Mark, str] | None:
    if problem is None:
        return None
    if "found character '\\t'" in said:
        return problem, "a tab character: YAML indents and separates with spaces only; replace it"
    token = re.search(r"found character '(.)' that cannot start any token", said)
    if token is not None:
        char = token.group(1)
        return problem, f"a plain value cannot start with {char!r}: put the value in quotes"
    alias = re.search(r"found undefined alias '([^']*)'", said)
    if alias is not None:
        name = alias.group(1)
        return problem, (
            f"*{name} reads as a reference to an anchor &{name} that the file does not define: "
            "put a value starting with '*' in quotes"
        )
    if "while scanning a quoted scalar" in context_text and context is not None:
        quote = _line(lines, context)[context.column : context.column + 1] or '"'
        return context, f"this quoted value is never closed: end it with {quote}"
    flow = re.search(r"expected ',' or '([\]}])'", said)
    if flow is not None and context is not None:
        close = flow.group(1)
        what = "list" if close == "]" else "mapping"
        opener = "[" if close == "]" else "{"
        return problem, (
            f"the {what} opened with {opener!r} on line {context.line + 1} is not closed: "
            f"end it with {close!r} (and separate its items with ',')"
        )
    if "could not find expected ':'" in said and context is not None:
        key = _line(lines, context)[context.column :].strip() or "this key"
        return context, f"{key!r} is followed by no ':': write a key as `key: value`"
    if said == "mapping values are not allowed here":
        return _colon_advice(problem, lines)
    if said.startswith("expected <block end>") and context is not None:
        return _indentation_advice(said, problem, context, lines)
    return None


def _colon_advice(problem: _Mark, lines: list[str]) -> tuple[_Mark, str]:
    """`a: b: c` (a value holding ': ') or, when the colon is the line's own key's, a line above
    whose `key:value` lacks the space and so swallowed this line as the rest of its value."""
    key = _key_at(lines, problem)
    own_colon = key is not None and _line(lines, problem).find(":") == problem.column
    if own_colon:
        for index in range(problem.line - 1, -1, -1):
            text = lines[index]
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            glued = _NO_SPACE_AFTER_COLON.match(text)
            if glued is not None:
                name, value = glued.group(1), glued.group(2)
                return _Mark(index, 0), (
                    f"{text.strip()!r} has no space after ':', so it is not a key and the next "
                    f"line continues its text: write `{name}: {value}`"
                )
            if ":" not in text and not text.lstrip().startswith(("-", "'", '"')):
                return _Mark(index, len(text) - len(text.lstrip())), (
                    f"{text.strip()!r} is followed by no ':': write a key as `key: value`"
                )
            break
    text = _line(lines, problem)
    value = text[text.find(":") + 1 :].strip() if ":" in text else ""
    example = f': write "{value}"' if value and '"' not in value else ""
    return problem, f"a value that holds ': ' must be in quotes{example}"


def _indentation_advice(
    said: str, problem: _Mark, context: _Mark, lines: list[str]
) -> tuple[_Mark, str]:
    block = _line(lines, context)
    here = problem.column
    there = context.column
    if _DASH_WITHOUT_SPACE.match(block):
        item = block.strip()
        return _Mark(context.line, context.column), (
            f"{item!r} has no space after '-', so it is not a list item: write "
            f"`- {item[1:].lstrip()}`"
        )
    key = _key_at(lines, problem)
    name = f"`{key}`" if key else "this line"
    if "found '?'" in said and here == there:
        return problem, (
            f"{name} is at the indentation of the list's '-' (line {context.line + 1}): indent "
            "it to line up with the keys of the item above, or start a new item with '- '"
        )
    if "found '<block sequence start>'" in said or "found '-'" in said:
        return problem, (
            f"this '-' is indented by {_spaces(here)}, the block it belongs to (line "
            f"{context.line + 1}) by {_spaces(there)}: line up the items of one list, and "
            "give a nested list a key of its own"
        )
    return problem, (
        f"{name} is indented by {_spaces(here)}, the keys of its mapping (from line "
        f"{context.line + 1}) by {_spaces(there)}: line up the keys of one mapping, and indent "
        "a nested block only under a key that ends with ':'"
    )
