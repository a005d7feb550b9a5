"""chartgen's error classes. The CLI maps them to exit codes in one place."""

from __future__ import annotations

from collections.abc import Sequence

from chartgen.problems import Problem


class ChartgenError(Exception):
    """A failure the user can act on: exit code 1, message without traceback."""


class InvalidInput(ChartgenError):
    """The input document has errors; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{sum(p.is_error for p in problems)} error(s) in the input")
        self.problems = tuple(problems)


class OperationFailed(ChartgenError):
    """An operation (writing, checking, talking to helm) did not succeed."""


class NoCluster(OperationFailed):
    """No cluster to talk to: no kubeconfig, or its API server does not answer."""
