"""checkov on the `helm template` output of every chart of every valid case.

The gate: no failed check, and the scan really read the charts (resources found, no parsing
error: checkov passes what it cannot parse). Exceptions are `checkov.io/skipN: CKV_K8S_NN=reason`
annotations on the resource, which checkov itself honours, so anyone's scan of the rendered
manifests agrees. checkov lives in its own virtualenv (`make checkov`, part of `make test`).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chartgen.pod_security import pod_specs
from tests.conftest import REPO
from tests.rendered_manifests import VALID, Release, render_case

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
SKIP_PREFIX = "checkov.io/skip"
BLUEPRINTS = REPO / "blueprints"
SECURITY_DOC = REPO / "docs" / "security.md"


@dataclass(frozen=True)
class Scan:
    releases: tuple[Release, ...]
    folder: Path
    report: dict[str, Any]

    @property
    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = self.report["summary"]
        return summary

    def results(self, kind: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.report["results"].get(kind, [])
        return found


def run_checkov(folder: Path) -> dict[str, Any]:
    if not CHECKOV.is_file():
        pytest.fail(
            f"checkov is not installed at {CHECKOV}: run `make checkov` (part of make test)"
        )
    done = subprocess.run(
        [
            str(CHECKOV),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--output",
            "json",
            "--directory",
            str(folder),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # 0: everything passed, 1: some check failed; anything else is checkov itself failing.
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert isinstance(report, dict), "expected one report (kubernetes only)"
    assert report["check_type"] == "kubernetes"
    return report


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    releases: list[Release] = []
    for case in VALID:
        releases.extend(render_case(case, tmp_path_factory.mktemp(case.name) / "generated"))
    folder = tmp_path_factory.mktemp("manifests")
    for release in releases:
        (folder / f"{release.case}__{release.name}.yaml").write_text(
            release.manifest, encoding="utf-8"
        )
    return Scan(tuple(releases), folder, run_checkov(folder))


def test_checkov_finds_no_failed_check(scan: Scan) -> None:
    failed = [
        f"{item['check_id']} {item['resource']} ({Path(item['file_path']).name})"
        for item in scan.results("failed_checks")
    ]
    assert failed == []
    assert scan.summary["failed"] == 0


def test_checkov_really_parsed_the_charts(scan: Scan) -> None:
    assert scan.summary["parsing_errors"] == 0
    assert scan.summary["resource_count"] > 0
    assert scan.summary["passed"] > 0
    # Every release that renders pods was read: checkov reports checks on its file. (checkov
    # has no check for StorageClasses and PersistentVolumes, all a local-only storage chart has.)
    scanned = {Path(item["file_path"]).name for item in scan.results("passed_checks")}
    for release in scan.releases:
        if any(next(pod_specs(item), None) for item in release.objects):
            assert f"{release.case}__{release.name}.yaml" in scanned, release


def _skip_annotations(scan: Scan) -> Iterator[tuple[Release, dict[str, Any], str, str]]:
    for release in scan.releases:
        for item in release.objects:
            for key, value in (item["metadata"].get("annotations") or {}).items():
                if key.startswith(SKIP_PREFIX):
                    yield release, item, key, value


def test_every_exception_has_a_reason_and_is_honoured(scan: Scan) -> None:
    skipped = {
        (Path(item["file_path"]).name, item["check_id"], item["resource"].split(".")[2])
        for item in scan.results("skipped_checks")
    }
    annotations = list(_skip_annotations(scan))
    assert annotations
    for release, item, key, value in annotations:
        check, separator, reason = value.partition("=")
        assert re.fullmatch(r"CKV2?_K8S_\d+", check), (key, value)
        assert separator and len(reason.split()) >= 5, f"no real reason: {value}"
        # An exception that skips nothing is stale: checkov must have used it.
        file_name = f"{release.case}__{release.name}.yaml"
        assert (file_name, check, item["metadata"]["name"]) in skipped, (file_name, value)
    assert scan.summary["skipped"] == len(annotations)


def _blueprint_exceptions() -> set[tuple[str, str]]:
    """(template path, check id) of every exception the blueprints declare."""
    found = set()
    pattern = re.compile(r'include "\w+\.checkov(?:Test)?Skips" \(list ([^)]*)\)')
    for template in sorted(BLUEPRINTS.glob("*/templates/**/*.yaml")):
        for match in pattern.finditer(template.read_text(encoding="utf-8")):
            for check in re.findall(r'"([^"]+)"', match.group(1)):
                found.add((str(template.relative_to(BLUEPRINTS)), check))
    return found


def test_the_security_doc_lists_every_exception() -> None:
    declared = _blueprint_exceptions()
    text = SECURITY_DOC.read_text(encoding="utf-8")
    section = text.split("# Security checks", 1)[1]
    listed: set[tuple[str, str]] = set()
    for row in section.splitlines():
        check = re.match(r"\| `(CKV2?_K8S_\d+)` \|", row)
        if check:
            listed.update((path, check.group(1)) for path in re.findall(r"`([^`]+\.yaml)`", row))
    assert listed == declared
    checks = {check for _path, check in declared}
    assert f"{len(declared)} exceptions ({len(checks)} checks)" in section
