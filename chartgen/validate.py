"""load -> schema -> model -> cross-field rules: every problem at once, or a Datacenter."""

from __future__ import annotations

from dataclasses import dataclass

from chartgen.acknowledge import acknowledged
from chartgen.loader import Document, load_file
from chartgen.model import Datacenter
from chartgen.model_builder import build_datacenter
from chartgen.problems import Problem, has_errors, sort_problems
from chartgen.rules import DOCUMENT_RULES, rule_problems
from chartgen.schema import schema_problems


@dataclass(frozen=True)
class Validation:
    """The outcome: sorted problems, and the model when there is no error."""

    problems: tuple[Problem, ...]
    datacenter: Datacenter | None
    document: Document | None = None

    @property
    def ok(self) -> bool:
        return self.datacenter is not None


def validate_file(path: str) -> Validation:
    loaded = load_file(path)
    if loaded.document is None:
        return Validation(loaded.problems, None)
    return validate_document(loaded.document)


def validate_document(document: Document) -> Validation:
    problems = schema_problems(document)
    if problems:
        # Every problem at once, as far as it can be found: the rules that need no model, except
        # at a value the schema already refused.
        refused = {problem.path for problem in problems}
        problems += [
            problem
            for rule in DOCUMENT_RULES
            for problem in rule(document)
            if problem.path not in refused
        ]
        return Validation(tuple(sort_problems(problems)), None, document)
    datacenter = build_datacenter(document.data, document.source)
    problems = sort_problems(acknowledged(rule_problems(datacenter, document), document))
    if has_errors(problems):
        return Validation(tuple(problems), None, document)
    return Validation(tuple(problems), datacenter, document)
