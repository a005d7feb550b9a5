"""Every `chartgen` command shown in the README and in docs/ runs, and says what the page says.

A page's commands run in order in a folder of their own, as a reader would type them:
- in a ```console block, `$ COMMAND` lines, each followed by what it prints (stdout and stderr
  together); a line `...` stands for any number of lines; the command must succeed, unless
  its output ends with a line `[exit N]`;
- in a ```sh block, the lines that start with `chartgen `: they must succeed.
Commands that need a cluster run against the Kubernetes API emulator (install, status,
uninstall, rollback; the platform's upstream charts are stand-ins served on loopback, as in
tests/test_install_platform.py), `backup` and `restore` against a kubectl that answers like one
(they `kubectl exec` into pods, which the emulator has not). The files a page names (a Compose
file) are copied from tests/data first.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.api_reference import load_references, reference_problems
from tests.chart_repository import ChartRepository
from tests.conftest import REPO
from tests.install_fixtures import (
    ServeCharts,
    chart_repository,
    cluster,
    helm_env,
    point_releases_at,
    postgres,
    stand_ins,
    start_emulated,
)
from tests.kube_emulator import EmulatedCluster

__all__ = ["chart_repository", "cluster", "helm_env", "postgres", "start_emulated"]

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
CUSTOM_RESOURCES = load_references(REPO / "tests" / "data" / "platform")
# What pages name that a reader would have: path in the page's folder -> file of the repository.
PAGE_FILES = {"gitea/compose.yaml": REPO / "tests" / "data" / "compose" / "gitea" / "compose.yaml"}
CLUSTER_COMMANDS = ("install", "status", "uninstall", "rollback")
POD_COMMANDS = ("backup", "restore")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
FAKE_KUBECTL = """\
#!{python}
import sys
argv = " ".join(sys.argv[1:])
if "pg_dump" in argv:
    sys.stdout.buffer.write(b"PGDMP a dump")
elif "pg_restore" in argv:
    sys.stdin.buffer.read()
"""


@dataclass(frozen=True)
class Example:
    page: Path
    line: int
    command: str
    output: tuple[str, ...] | None  # None: only its success is checked

    @property
    def words(self) -> list[str]:
        return self.command.split()

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}: {self.command}"


def examples(page: Path) -> list[Example]:
    text = page.read_text(encoding="utf-8")
    found: list[Example] = []
    for fence in _FENCE.finditer(text):
        language, body = fence.group(1), fence.group(2)
        first_line = text.count("\n", 0, fence.start(2)) + 1
        rows = body.splitlines()
        if language == "console":
            for index, row in enumerate(rows):
                if row.startswith("$ "):
                    output = []
                    for following in rows[index + 1 :]:
                        if following.startswith("$ "):
                            break
                        output.append(following)
                    found.append(Example(page, first_line + index, row[2:], tuple(output)))
        elif language in ("sh", "bash"):
            for index, row in enumerate(rows):
                if row.startswith("chartgen "):
                    command = row.split("  #", 1)[0].strip()
                    found.append(Example(page, first_line + index, command, None))
    return found


def test_the_pages_show_commands() -> None:
    """The walkthrough's commands are found (a parser that finds nothing passes vacuously)."""
    readme = [example.command.split()[:2] for example in examples(REPO / "README.md")]
    for expected in (["chartgen", "init"], ["chartgen", "build"], ["chartgen", "install"]):
        assert expected in readme


def matches(expected: tuple[str, ...], actual: list[str]) -> bool:
    """Line by line: a line `...` matches any run of lines (none included), `...` within a line
    any text (times, which vary)."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[skip:]) for skip in range(len(actual) + 1))
    return bool(actual) and _line_matches(head, actual[0]) and matches(rest, actual[1:])


def _line_matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.rstrip().split("..."))
    return re.fullmatch(pattern, actual.rstrip()) is not None


class Reader:
    """A reader at a terminal: one folder, chartgen on PATH, commands run one after another."""

    def __init__(self, folder: Path, serve_charts: ServeCharts) -> None:
        self.folder = folder
        self.serve_charts = serve_charts
        self.repository: ChartRepository | None = None
        fake = folder.parent / "fake-kubectl"
        fake.mkdir()
        kubectl = fake / "kubectl"
        kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable), encoding="utf-8")
        kubectl.chmod(0o755)
        self.fake_kubectl = fake
        self.no_tools = folder.parent / "no-tools"
        self.no_tools.mkdir()

    def env(self, verb: str) -> dict[str, str]:
        """The test's environment (KUBECONFIG and helm's settings point at the emulator), the
        virtualenv's chartgen first on PATH; backup and restore find the pod-answering kubectl
        first (and no other in a tools folder)."""
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        if verb in POD_COMMANDS:
            path = f"{self.fake_kubectl}{os.pathsep}{path}"
            return {**os.environ, "PATH": path, "CHARTGEN_TOOLS_DIR": str(self.no_tools)}
        return {**os.environ, "PATH": path}

    def run(self, example: Example) -> subprocess.CompletedProcess[str]:
        verb = example.words[1] if len(example.words) > 1 else ""
        releases = self.folder / "generated" / "releases.yaml"
        # Every command that asks helm about the tree's releases (status renders them too).
        asks_helm = verb in CLUSTER_COMMANDS or "--live" in example.words
        recorded = releases.read_bytes() if asks_helm and releases.is_file() else None
        if recorded is not None:
            self._platform_from_loopback()
        try:
            return self._shell(example.command, self.env(verb))
        finally:
            if recorded is not None:  # as built: a later build must not see a hand edit
                releases.write_bytes(recorded)

    def _shell(self, command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )

    def _platform_from_loopback(self) -> None:
        """The upstream charts a built tree names, served as stand-ins on loopback (their
        repositories are out of reach), releases.yaml pointed there as at a mirror."""
        tree = self.folder / "generated"
        if self.repository is None:
            self.repository = self.serve_charts(stand_ins(tree))
        point_releases_at(tree, self.repository)


@pytest.fixture
def reader(tmp_path: Path, chart_repository: ServeCharts) -> Iterator[Reader]:
    folder = tmp_path / "reader"
    folder.mkdir()
    for name, source in PAGE_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / name)
    yield Reader(folder, chart_repository)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_command_of_the_page_runs_as_shown(
    page: Path, reader: Reader, cluster: EmulatedCluster
) -> None:
    assert cluster.kubeconfig.is_file()  # KUBECONFIG points at the emulator for the cluster ones
    if page.name != "README.md":
        shutil.copyfile(REPO / "datacenter.yaml", reader.folder / "datacenter.yaml")
    failures = []
    for example in examples(page):
        done = reader.run(example)
        lines = done.stdout.splitlines()
        if example.output is None:
            if done.returncode != 0:
                failures.append(f"{example}\nexit {done.returncode}:\n{done.stdout}")
            continue
        expected_code = 0
        shown = list(example.output)
        if shown and re.fullmatch(r"\[exit \d+\]", shown[-1].strip()):
            expected_code = int(shown.pop().strip()[6:-1])
        if done.returncode != expected_code or not matches(tuple(shown), lines):
            failures.append(
                f"{example}\nthe page shows:\n"
                + "\n".join(example.output)
                + f"\nit printed (exit {done.returncode}):\n{done.stdout}"
            )
    assert not failures, "\n\n".join(failures)


# A YAML block at any indentation (inside a list item too).
_YAML_FENCE = re.compile(r"^( *)```yaml\n(.*?)^\1```", re.MULTILINE | re.DOTALL)


def custom_resource_examples(page: Path) -> list[tuple[int, dict[str, Any]]]:
    """The YAML blocks of PAGE that are objects of a custom resource with a field list in
    tests/data/platform, with their first line."""
    text = page.read_text(encoding="utf-8")
    found = []
    for fence in _YAML_FENCE.finditer(text):
        indent = len(fence.group(1))
        body = "".join(line[indent:] + "\n" for line in fence.group(2).splitlines())
        document = YAML(typ="safe", pure=True).load(body)
        if isinstance(document, dict) and document.get("apiVersion") in CUSTOM_RESOURCES:
            found.append((text.count("\n", 0, fence.start(2)) + 1, document))
    return found


def test_custom_resources_shown_are_valid() -> None:
    """What a page tells readers to apply (the AlertmanagerConfig that mails the alerts) meets
    the CRD of the pinned release, checked like the charts' own custom resources."""
    shown = {
        (page.name, line): document
        for page in PAGES
        for line, document in custom_resource_examples(page)
    }
    assert "AlertmanagerConfig" in {document["kind"] for document in shown.values()}
    for (page, line), document in shown.items():
        assert reference_problems(document, CUSTOM_RESOURCES) == [], f"{page}:{line}"
