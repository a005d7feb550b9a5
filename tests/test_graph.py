"""`chartgen graph`: what the picture shows, its formats, its layout, and the README's copy."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import graphviz
import pytest
from click.testing import CliRunner

from chartgen.cli import main
from chartgen.graph import graph_bytes, to_dot, to_mermaid, topology
from chartgen.rules import eligible_nodes
from chartgen.validate import Validation, validate_file
from tests.conftest import REPO

TWENTY = Path(__file__).parent / "data" / "graph" / "twenty-services.yaml"


def _validation(path: Path) -> Validation:
    validation = validate_file(str(path))
    assert validation.datacenter is not None, validation.problems
    return validation


def test_the_example_topology() -> None:
    validation = _validation(REPO / "datacenter.yaml")
    assert validation.datacenter is not None
    shape = topology(validation.datacenter, validation.problems)
    workloads = {workload.title: workload for workload in shape.workloads}
    assert set(workloads) == {"web", "cloud", "cloud PostgreSQL", "cloud Redis"}
    assert workloads["web"].nodes == ("worker1", "worker2")
    assert workloads["web"].replicas == "2 replicas"
    assert workloads["cloud PostgreSQL"].nodes == ("worker2",)  # its volume is on worker2
    assert [(link.source, link.target) for link in shape.dependencies] == [
        ("svc_cloud", "db_cloud"),
        ("svc_cloud", "redis_cloud"),
    ]
    assert {(link.source, link.target, link.label) for link in shape.volumes} == {
        ("svc_cloud", "sc_nfs", "data 50Gi"),
        ("db_cloud", "sc_local_2dworker2", "data 10Gi"),
    }
    spofs = [workload.title for workload in shape.workloads if workload.single_point_of_failure]
    assert spofs == ["cloud PostgreSQL"]


def test_placement_is_the_rules_placement() -> None:
    validation = _validation(TWENTY)
    dc = validation.datacenter
    assert dc is not None
    shape = topology(dc, validation.problems)
    mains = {workload.title: workload for workload in shape.workloads}
    for service in dc.services:
        assert mains[service.name].nodes == tuple(n.name for n in eligible_nodes(dc, service))


def test_single_points_of_failure_are_the_validations_warnings() -> None:
    validation = _validation(TWENTY)
    assert validation.datacenter is not None
    shape = topology(validation.datacenter, validation.problems)
    warned = sorted(
        problem.message
        for problem in validation.problems
        if "single point of failure" in problem.message
    )
    drawn = sorted(message for workload in shape.workloads for message in workload.warnings)
    assert drawn == warned
    assert len(drawn) == 6
    # Without the warnings, nothing is drawn as a single point of failure: no second opinion.
    plain = topology(validation.datacenter, ())
    assert not any(workload.single_point_of_failure for workload in plain.workloads)


def test_dot_names_everything_and_colours_the_warnings() -> None:
    validation = _validation(REPO / "datacenter.yaml")
    assert validation.datacenter is not None
    dot = to_dot(topology(validation.datacenter, validation.problems))
    for text in (
        "worker, arm64",
        "192.168.1.11",
        "NFS 192.168.1.20:/export/k8s",
        "local worker2:/srv/k8s",
        "Nextcloud, apache front",
        "may run on worker2",
    ):
        assert text in dot
    db_line = next(line for line in dot.splitlines() if line.strip().startswith("db_cloud ["))
    assert 'fillcolor="#fdba74"' in db_line
    web_line = next(line for line in dot.splitlines() if line.strip().startswith("svc_web ["))
    assert 'fillcolor="#fdba74"' not in web_line


def test_mermaid_is_plain_text() -> None:
    validation = _validation(REPO / "datacenter.yaml")
    assert validation.datacenter is not None
    text = to_mermaid(topology(validation.datacenter, validation.problems))
    assert "flowchart LR" in text
    assert 'db_cloud["<b>cloud PostgreSQL</b><br/>database<br/>1 replica<br/>single point' in text
    assert "group0 -.- node_worker1" in text
    assert 'svc_cloud -->|"SQL"| db_cloud' in text


@pytest.mark.parametrize(
    ("arguments", "starts"),
    [
        (["--format", "svg"], b"<?xml"),
        (["--format", "dot"], b"digraph topology {"),
        (["--format", "mermaid"], b"---\ntitle:"),
    ],
)
def test_formats_on_stdout(runner: CliRunner, arguments: list[str], starts: bytes) -> None:
    result = runner.invoke(main, ["graph", str(REPO / "datacenter.yaml"), *arguments])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(starts)
    assert "single point of failure" in result.stderr  # the warnings, as validate prints them


def test_format_from_the_file_suffix(runner: CliRunner, tmp_path: Path) -> None:
    files = [("t.png", b"\x89PNG"), ("t.svg", b"<?xml"), ("t.mmd", b"---")]
    files += [("t.jpg", b"\xff\xd8\xff"), ("t.JPEG", b"\xff\xd8\xff")]
    for name, magic in files:
        target = tmp_path / name
        result = runner.invoke(main, ["graph", str(REPO / "datacenter.yaml"), "-o", str(target)])
        assert result.exit_code == 0, result.stderr
        assert target.read_bytes().startswith(magic)
    svg = ElementTree.fromstring((tmp_path / "t.svg").read_bytes())
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-o", "{tmp}/t.pdf"], "cannot tell the picture format from .pdf: name the file .svg"),
        (["-o", "{tmp}/t.jpg", "--format", "svg"], "t.jpg names a jpeg picture, not svg"),
        (["-o", "{tmp}/t.svg", "-f", "png"], "-f names the datacenter file"),
    ],
)
def test_a_file_is_never_written_in_a_format_its_name_contradicts(
    runner: CliRunner, tmp_path: Path, arguments: list[str], message: str
) -> None:
    given = [argument.format(tmp=tmp_path) for argument in arguments]
    result = runner.invoke(main, ["graph", str(REPO / "datacenter.yaml"), *given])
    assert result.exit_code == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_format_with_a_file_of_no_suffix(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "picture"
    arguments = ["graph", str(REPO / "datacenter.yaml"), "-o", str(target), "--format", "jpeg"]
    assert runner.invoke(main, arguments).exit_code == 0
    assert target.read_bytes().startswith(b"\xff\xd8\xff")


def test_an_invalid_input_draws_nothing(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "dc.yaml"
    source.write_text((REPO / "datacenter.yaml").read_text().replace("replicas: 2", "replicas: -1"))
    result = runner.invoke(main, ["graph", str(source), "-o", str(tmp_path / "t.svg")])
    assert result.exit_code == 1
    assert not (tmp_path / "t.svg").exists()


def _boxes(layout: dict[str, Any]) -> list[tuple[str, float, float, float, float]]:
    """Graphviz's own layout: every node's box in points (x0, y0, x1, y1)."""
    boxes = []
    for item in layout["objects"]:
        if "pos" not in item or "width" not in item:
            continue  # a cluster
        x, y = (float(value) for value in item["pos"].split(","))
        half_width, half_height = float(item["width"]) * 36, float(item["height"]) * 36
        boxes.append(
            (item["name"], x - half_width, y - half_height, x + half_width, y + half_height)
        )
    return boxes


@pytest.mark.parametrize("source", [REPO / "datacenter.yaml", TWENTY], ids=["example", "twenty"])
def test_no_box_overlaps_another(source: Path) -> None:
    validation = _validation(source)
    assert validation.datacenter is not None
    dot = to_dot(topology(validation.datacenter, validation.problems))
    layout = json.loads(graphviz.Source(dot).pipe(format="json0"))
    boxes = _boxes(layout)
    assert len(boxes) >= len(validation.datacenter.services) + len(validation.datacenter.nodes)
    for first, second in itertools.combinations(boxes, 2):
        apart = (
            first[3] <= second[1]
            or second[3] <= first[1]
            or first[4] <= second[2]
            or second[4] <= first[2]
        )
        assert apart, f"{first[0]} overlaps {second[0]}"


def test_the_readme_picture_is_up_to_date() -> None:
    validation = _validation(REPO / "datacenter.yaml")
    assert validation.datacenter is not None
    committed = (REPO / "docs" / "topology.svg").read_bytes()
    assert graph_bytes(validation.datacenter, validation.problems, "svg") == committed, (
        "docs/topology.svg is stale: run `make docs`"
    )
    assert b"Generated by graphviz version" not in committed
