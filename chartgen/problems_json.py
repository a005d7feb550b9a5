"""Problems as JSON, for scripts (`chartgen validate --output json`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chartgen.problems import Problem
from chartgen.validate import Validation


def problem_object(problem: Problem) -> dict[str, Any]:
    found = {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "path": problem.path,
        "message": problem.message,
        "severity": problem.severity.value,
        "rule": problem.rule or None,
        "acknowledged": problem.acknowledged,
    }
    if problem.rule:  # scripts select a kind of problem by its rule id, not by its text
        found["rule"] = problem.rule
    return found


def problems_objects(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    return [problem_object(problem) for problem in problems]


def validation_json(file: str, validation: Validation) -> str:
    """`{"file", "valid", "errors", "warnings", "acknowledged", "problems": [...]}`, problems
    sorted by position as in the text output; `valid` is false exactly when the exit code is 1;
    `warnings` counts the acknowledged ones too."""
    problems = validation.problems
    errors = sum(problem.is_error for problem in problems)
    document = {
        "file": file,
        "valid": validation.ok,
        "errors": errors,
        "warnings": len(problems) - errors,
        "acknowledged": sum(problem.acknowledged for problem in problems),
        "problems": problems_objects(problems),
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
