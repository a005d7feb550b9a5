"""Every valid case builds; every chart it gives lints, renders and validates strictly.

Per-file snapshots of each case's tree, reviewed like code (`make snapshots`, then the diff).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML
from syrupy.assertion import SnapshotAssertion

from chartgen.cli import main
from chartgen.render import render
from chartgen.validate import validate_file
from tests.api_reference import load_references, reference_problems
from tests.conftest import REPO, case_dirs

VALID = case_dirs("valid")
# Large cases are snapshotted as a digest of their files instead of file by file.
DIGEST_ONLY = {"nginx-200"}
HELM = os.environ.get("CHARTGEN_HELM", str(REPO / ".tools" / "bin" / "helm"))
# The custom resources of the platform layer are checked against the field lists of the
# upstream CRDs of the pinned versions (tests/data/platform), the rest by kubernetes-validate.
CUSTOM_RESOURCES = load_references(Path(__file__).parent / "data" / "platform")


def _rendered(case: Path) -> dict[PurePosixPath, bytes]:
    validation = validate_file(str(case / "datacenter.yaml"))
    assert validation.datacenter is not None, validation.problems
    return render(validation.datacenter)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each valid case built once through the CLI, shared by the chart checks."""
    trees: dict[str, Path] = {}
    for case in VALID:
        out = tmp_path_factory.mktemp(case.name) / "generated"
        result = CliRunner().invoke(main, ["build", str(case / "datacenter.yaml"), "-o", str(out)])
        assert result.exit_code == 0, result.output
        trees[case.name] = out
    return trees


def _charts(tree: Path) -> list[Path]:
    return sorted(path.parent for path in tree.glob("**/Chart.yaml"))


def _kubernetes_version(case: Path) -> str:
    validation = validate_file(str(case / "datacenter.yaml"))
    assert validation.datacenter is not None
    return validation.datacenter.cluster.kubernetes_version


def _helm(*args: str) -> str:
    done = subprocess.run([HELM, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"helm {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _release(chart: Path, tree: Path) -> tuple[str, str]:
    yaml = YAML(typ="safe", pure=True)
    plan = yaml.load((tree / "releases.yaml").read_text())
    for release in plan["releases"]:
        if tree / release["chart"] == chart:
            return release["name"], release["namespace"]
    raise AssertionError(f"{chart} is not in releases.yaml")


@pytest.mark.parametrize("case", VALID, ids=[path.name for path in VALID])
def test_every_chart_lints_strictly(case: Path, built: dict[str, Path]) -> None:
    charts = _charts(built[case.name])
    assert charts
    _helm("lint", "--strict", "--quiet", *map(str, charts))


@pytest.mark.parametrize("case", VALID, ids=[path.name for path in VALID])
def test_every_manifest_validates_for_the_cluster_version(
    case: Path, built: dict[str, Path]
) -> None:
    tree = built[case.name]
    version = _kubernetes_version(case)
    yaml = YAML(typ="safe", pure=True)
    for chart in _charts(tree):
        name, namespace = _release(chart, tree)
        output = _helm("template", name, str(chart), "--namespace", namespace)
        if case.name not in DIGEST_ONLY:  # the same chart 200 times over: once is enough there
            assert output == _helm("template", name, str(chart), "--namespace", namespace)
        documents: list[Any] = [doc for doc in yaml.load_all(output) if doc]
        assert documents, f"{chart} renders nothing"
        for document in documents:
            assert not (
                document["kind"] == "Secret"
                and (document.get("data") or document.get("stringData"))
            ), f"{chart} renders a Secret with data"
            if document["apiVersion"] in CUSTOM_RESOURCES:
                problems = reference_problems(document, CUSTOM_RESOURCES)
                assert problems == [], f"{chart}: {document['kind']}: {problems}"
                continue
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                raise AssertionError(
                    f"{chart}: {document['kind']} {document['metadata']['name']}: {error.message}"
                ) from error


@pytest.mark.parametrize("case", VALID, ids=[path.name for path in VALID])
def test_generated_tree_snapshot(case: Path, snapshot_text: SnapshotAssertion) -> None:
    files = _rendered(case)
    if case.name in DIGEST_ONLY:
        digest = "".join(
            f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items())
        )
        assert digest == snapshot_text(name="digest")
        return
    for path, data in sorted(files.items()):
        assert data.decode("utf-8") == snapshot_text(name=str(path).replace("/", "__"))


@pytest.mark.parametrize("case", VALID, ids=[path.name for path in VALID])
def test_rendering_is_deterministic(case: Path) -> None:
    assert _rendered(case) == _rendered(case)


def test_repository_generated_is_the_build_of_datacenter_yaml(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["build", str(REPO / "datacenter.yaml"), "-o", str(REPO / "generated"), "--check"]
    )
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("case", VALID, ids=[path.name for path in VALID])
def test_every_comment_of_a_blueprints_values_survives_the_merge(
    case: Path, built: dict[str, Path]
) -> None:
    yaml = YAML(typ="safe", pure=True)
    for chart in _charts(built[case.name]):
        blueprint = yaml.load((chart / "Chart.yaml").read_text())["name"]
        source = (REPO / "blueprints" / blueprint / "values.yaml").read_text().splitlines()
        merged = set((chart / "values.yaml").read_text().splitlines())
        lost = [line for line in source if line.lstrip().startswith("#") and line not in merged]
        assert lost == [], f"{chart}/values.yaml lost comments of its blueprint"
