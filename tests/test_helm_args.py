"""The argv chartgen hands to helm, the plan it reads, and its reading of helm's output."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chartgen.errors import OperationFailed
from chartgen.helm_args import (
    ChangeOptions,
    Connection,
    crd_argv,
    delete_claims_argv,
    history_argv,
    list_argv,
    missing_kubeconfig,
    parse_timeout,
    preview_argv,
    rollback_argv,
    uninstall_argv,
    upgrade_argv,
)
from chartgen.helm_output import (
    Failure,
    claims_in,
    classify,
    crd_established,
    parse_history,
    parse_list,
    parse_release,
    reason,
)
from chartgen.plan import Release, plan_from_document, read_plan, releases_document
from chartgen.versions import older

WEB = Release("web", "web-ns", "charts/web")
CHART = Path("/tree")  # the built tree: the chart is its charts/web
BASE = ["upgrade", "web", "/tree/charts/web", "--install", "--namespace", "web-ns"]
BASE += ["--create-namespace", "--output", "json"]


def test_plain_upgrade_leaves_the_cluster_choice_to_helm() -> None:
    assert upgrade_argv(WEB, CHART, ChangeOptions(), Connection()) == BASE


def test_every_option_reaches_helm_with_its_helm_4_spelling() -> None:
    options = ChangeOptions(wait=True, timeout="10m", rollback_on_failure=True)
    connection = Connection(Path("/k/config"), "prod")
    assert upgrade_argv(WEB, CHART, options, connection) == [
        *BASE,
        "--wait=watcher",
        "--wait-for-jobs",
        "--timeout",
        "10m",
        "--rollback-on-failure",
        "--kubeconfig",
        "/k/config",
        "--kube-context",
        "prod",
    ]


def test_dry_run_is_server_side_and_never_rolls_back() -> None:
    options = ChangeOptions(dry_run=True, rollback_on_failure=True)
    assert upgrade_argv(WEB, CHART, options, Connection()) == [*BASE, "--dry-run=server"]
    assert preview_argv(WEB, CHART, Connection()) == [*BASE, "--dry-run=server"]


def test_no_flag_is_split_into_characters() -> None:
    options = ChangeOptions(dry_run=True, wait=True, timeout="1m", rollback_on_failure=True)
    argv = upgrade_argv(WEB, CHART, options, Connection(Path("/k"), "ctx"))
    assert all(len(arg) > 1 for arg in argv)
    assert "--disable-openapi-validation" not in argv


def test_rollback_uninstall_and_list() -> None:
    connection = Connection(kube_context="c")
    assert rollback_argv(WEB, None, ChangeOptions(), connection) == [
        "rollback", "web", "--namespace", "web-ns", "--kube-context", "c",
    ]  # fmt: skip
    assert rollback_argv(WEB, 1, ChangeOptions(wait=True), Connection()) == [
        "rollback", "web", "1", "--namespace", "web-ns", "--wait=watcher", "--wait-for-jobs",
    ]  # fmt: skip
    assert uninstall_argv(WEB, ChangeOptions(dry_run=True, timeout="30s"), Connection()) == [
        "uninstall", "web", "--namespace", "web-ns", "--dry-run", "--timeout", "30s",
    ]  # fmt: skip
    assert list_argv(WEB, Connection())[:5] == [
        "list",
        "--namespace",
        "web-ns",
        "--filter",
        "^web$",
    ]


def test_claims_are_deleted_with_kubectl_spelling() -> None:
    assert delete_claims_argv("ns", ["a", "b"], Connection(Path("/k"), "c")) == [
        "delete", "persistentvolumeclaim", "a", "b", "--namespace", "ns", "--ignore-not-found",
        "--wait=false", "--kubeconfig", "/k", "--context", "c",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"), [("90", "90s"), ("5m", "5m"), ("1h30m", "1h30m"), ("2.5m", "2.5m")]
)
def test_timeouts_are_go_durations(text: str, expected: str) -> None:
    assert parse_timeout(text) == expected


@pytest.mark.parametrize("text", ["", "5 minutes", "m5", "-3s", "10d"])
def test_other_timeouts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_timeout(text)


def test_missing_kubeconfig_as_helm_looks_for_one(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("{}")
    home = tmp_path / "home"
    assert missing_kubeconfig(Connection(config), {}, home) is None
    assert "is not a file" in str(missing_kubeconfig(Connection(tmp_path / "x"), {}, home))
    assert missing_kubeconfig(Connection(), {"KUBECONFIG": f"/nope:{config}"}, home) is None
    assert "none of the files" in str(missing_kubeconfig(Connection(), {"KUBECONFIG": "/n"}, home))
    assert missing_kubeconfig(Connection(), {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, home) is None
    assert str(missing_kubeconfig(Connection(), {}, home)).startswith("no kubeconfig: pass")
    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "config").write_text("{}")
    assert missing_kubeconfig(Connection(), {}, home) is None


def _document(*releases: dict[str, object]) -> dict[str, object]:
    return {"releases": list(releases)}


def test_plan_orders_by_needs_and_reverses_for_removal() -> None:
    plan = plan_from_document(
        Path("/t"),
        _document(
            {"name": "app", "namespace": "a", "chart": "charts/app", "needs": ["db"]},
            {"name": "db", "namespace": "d", "chart": "charts/db", "needs": ["storage"]},
            {"name": "storage", "namespace": "s", "chart": "storage", "needs": []},
            {"name": "web", "namespace": "w", "chart": "charts/web"},
        ),
        "releases.yaml",
    )
    assert [r.name for r in plan.order()] == ["storage", "web", "db", "app"]
    assert plan.dependants() == {"app": (), "db": ("app",), "storage": ("db",), "web": ()}
    assert plan.chart_path(plan.release("db")) == Path("/t/charts/db")
    with pytest.raises(OperationFailed, match=r'no release "x" in /t \(releases: app, db'):
        plan.release("x")


@pytest.mark.parametrize(
    ("releases", "message"),
    [
        ([{"name": "a", "namespace": "n", "chart": "../x"}], "is not a folder inside the tree"),
        ([{"name": "a", "namespace": "n", "chart": "c", "needs": ["b"]}], "unknown releases: b"),
        ([{"name": "a", "namespace": "n"}], r"releases\[0\].chart: expected a non-empty string"),
        (
            [
                {"name": "a", "namespace": "n", "chart": "c", "needs": ["b"]},
                {"name": "b", "namespace": "n", "chart": "d", "needs": ["a"]},
            ],
            "form a cycle",
        ),
        ([{"name": "a", "namespace": "n", "chart": "c"}] * 2, "appear twice: a"),
    ],
)
def test_plan_refuses_what_build_never_writes(
    releases: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(OperationFailed, match=message):
        plan_from_document(Path("/t"), _document(*releases), "releases.yaml")


def test_plan_of_a_folder_that_was_not_built(tmp_path: Path) -> None:
    with pytest.raises(OperationFailed, match="run `chartgen build` first"):
        read_plan(tmp_path)
    with pytest.raises(OperationFailed, match="does not exist"):
        read_plan(tmp_path / "nope")


def test_release_json_and_sameness() -> None:
    text = (
        'Pulled: x\n{"name": "web", "version": 2, "info": {"status": "deployed"}, '
        '"manifest": "m", "hooks": [{"manifest": "h2"}, {"manifest": "h1"}]}'
    )
    state = parse_release(text)
    assert (state.revision, state.status, state.manifest, state.hooks) == (
        2, "deployed", "m", ("h2", "h1"),
    )  # fmt: skip
    reordered = parse_release('{"version": 3, "manifest": "m", "hooks": [{"manifest": "h1"}, {"manifest": "h2"}]}')  # fmt: skip  # noqa: E501
    assert state.deploys_the_same(reordered)
    assert not state.deploys_the_same(parse_release('{"manifest": "other"}'))
    assert parse_release('{"info": {"status": "pending-upgrade"}}').pending


def test_list_row() -> None:
    rows = '[{"name": "webx"}, {"name": "web", "revision": "3", "chart": "nginx-0.1.0"}]'
    listed = parse_list(rows, "web")
    assert listed is not None and (listed.revision, listed.chart) == (3, "nginx-0.1.0")
    assert parse_list("[]", "web") is None


def test_history_rows() -> None:
    assert history_argv(WEB, Connection(kube_context="lab")) == [
        "history", "web", "--namespace", "web-ns", "--output", "json", "--kube-context", "lab",
    ]  # fmt: skip
    rows = (
        '[{"revision": 1, "status": "superseded", "chart": "nextcloud-0.1.0", '
        '"app_version": "31.0.9"}, {"revision": 2, "status": "deployed", "app_version": "32.0.0"}]'
    )
    first, second = parse_history(rows)
    assert (first.revision, first.status, first.chart, first.app_version) == (
        1, "superseded", "nextcloud-0.1.0", "31.0.9",
    )  # fmt: skip
    assert (second.revision, second.app_version, second.chart) == (2, "32.0.0", "")
    assert parse_history("") == ()


@pytest.mark.parametrize(
    ("version", "than", "expected"),
    [
        ("31.0.9", "32.0.0", True),
        ("31.0.10", "31.0.9", False),  # numbers, not text
        ("31.0.9", "31.0.9", False),
        ("31", "31.0.0", False),
        ("30.0.16-fpm", "31.0.0", True),
        ("latest", "31.0.0", False),  # not a version: never judged older
    ],
)
def test_versions_compare_as_numbers(version: str, than: str, expected: bool) -> None:
    assert older(version, than) is expected


def test_forward_only_is_recorded_in_the_plan(tmp_path: Path) -> None:
    cloud = Release("cloud", "cloud", "charts/cloud", timeout="55m", forward_only=True)
    document = releases_document((WEB, cloud))
    assert document["releases"][1]["forwardOnly"] is True
    assert "forwardOnly" not in document["releases"][0]
    plan = plan_from_document(tmp_path, document, "releases.yaml")
    assert plan.releases == (WEB, cloud)
    with pytest.raises(
        OperationFailed, match=r"releases\[0\]\.forwardOnly: expected true or false"
    ):
        plan_from_document(
            tmp_path,
            {"releases": [{**document["releases"][0], "forwardOnly": "yes"}]},
            "releases.yaml",
        )


@pytest.mark.parametrize(
    ("stderr", "failure"),
    [
        ("Error: release: not found\n", Failure.NOT_FOUND),
        (
            'Error: kubernetes cluster unreachable: Get "http://127.0.0.1:1/version": dial tcp '
            "127.0.0.1:1: connect: connection refused\n",
            Failure.UNREACHABLE,
        ),
        (
            "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress",
            Failure.PENDING,
        ),
        ("Error: INSTALLATION FAILED: StorageClass is refused\n", Failure.OTHER),
    ],
)
def test_helm_failures_are_classified(stderr: str, failure: Failure) -> None:
    assert classify(stderr) is failure


def test_reason_is_helms_error_without_log_lines() -> None:
    stderr = (
        "W1128 00:59:26.311812    4347 reflector.go:765] ListAndWatch error\n"
        "level=WARN msg=x\nError: UPGRADE FAILED: values don't meet the schema\n- at '': y\n"
    )
    assert reason(stderr) == "UPGRADE FAILED: values don't meet the schema\n- at '': y"
    only_logged = 'level=INFO msg="unable to instantiate SQL driver: pq: boom"\n'
    assert reason(only_logged) == "unable to instantiate SQL driver: pq: boom"


def test_claims_of_a_manifest_include_statefulset_templates() -> None:
    manifest = """
---
kind: PersistentVolumeClaim
metadata: {name: cloud-data}
---
kind: StatefulSet
metadata: {name: cloud-postgresql}
spec:
  replicas: 2
  volumeClaimTemplates: [{metadata: {name: data}}]
---
kind: Service
metadata: {name: cloud}
"""
    assert claims_in(manifest) == (
        "cloud-data", "data-cloud-postgresql-0", "data-cloud-postgresql-1",
    )  # fmt: skip


METALLB = Release(
    "metallb",
    "metallb-system",
    "metallb",
    ("flannel",),
    repository="https://metallb.github.io/metallb",
    version="0.16.1",
    values="platform/values/metallb.yaml",
    wait=True,
    timeout="10m",
    platform=True,
)


def test_a_repository_chart_is_pinned_with_its_values_and_waited_for() -> None:
    assert upgrade_argv(METALLB, CHART, ChangeOptions(), Connection()) == [
        "upgrade", "metallb", "metallb", "--install", "--namespace", "metallb-system",
        "--create-namespace", "--output", "json",
        "--repo", "https://metallb.github.io/metallb", "--version", "0.16.1",
        "--values", "/tree/platform/values/metallb.yaml",
        "--wait=watcher", "--wait-for-jobs", "--timeout", "10m",
    ]  # fmt: skip
    # The command line's timeout wins; a preview never waits.
    argv = upgrade_argv(METALLB, CHART, ChangeOptions(timeout="30m"), Connection())
    assert argv[argv.index("--timeout") + 1] == "30m"
    assert "--wait=watcher" not in preview_argv(METALLB, CHART, Connection())


def test_an_oci_chart_is_named_by_its_reference() -> None:
    crds = Release(
        "gateway-api", "gateway-system", "gateway-crds-helm",
        repository="oci://docker.io/envoyproxy", version="v1.8.3",
    )  # fmt: skip
    argv = upgrade_argv(crds, CHART, ChangeOptions(), Connection())
    assert argv[2] == "oci://docker.io/envoyproxy/gateway-crds-helm"
    assert "--repo" not in argv
    assert argv[argv.index("--version") + 1] == "v1.8.3"


def test_releases_round_trip_through_releases_yaml() -> None:
    gateway = Release(
        "chartgen-gateway", "traefik", "platform/gateway", ("traefik",),
        crds=("gateways.gateway.networking.k8s.io",), platform=True,
    )  # fmt: skip
    releases = (Release("flannel", "kube-flannel", "flannel", repository="https://f.example/",
                        version="v1", platform=True), METALLB, gateway, WEB)  # fmt: skip
    document = releases_document(releases)
    assert document["releases"][3] == {
        "name": "web", "namespace": "web-ns", "chart": "charts/web", "needs": [],
    }  # fmt: skip
    fixed = {**document, "releases": [{**e, "needs": []} for e in document["releases"]]}
    read = plan_from_document(Path("/t"), fixed, "releases.yaml").releases
    assert [replace(r, needs=()) for r in releases] == list(read)
    assert plan_from_document(Path("/t"), fixed, "x").without_platform().releases == (WEB,)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"repository": "https://x.example/"}, "releases[0].version: expected a non-empty string"),
        ({"values": "../outside.yaml"}, "../outside.yaml is not a file inside the tree"),
        ({"wait": "yes"}, "releases[0].wait: expected true or false"),
        ({"crds": "a.b"}, "releases[0].crds: expected a list of names"),
    ],
)
def test_a_bad_release_entry_is_a_clear_error(entry: dict[str, Any], message: str) -> None:
    document = {"releases": [{"name": "a", "namespace": "n", "chart": "c", **entry}]}
    with pytest.raises(OperationFailed, match=re.escape(message)):
        plan_from_document(Path("/t"), document, "releases.yaml")


def test_helm_and_kubectl_answers_about_repositories_and_crds() -> None:
    gone = (
        'Error: looks like "http://127.0.0.1:1" is not a valid chart repository or cannot be '
        'reached: Get "http://127.0.0.1:1/index.yaml": dial tcp: connect: connection refused'
    )
    assert classify(gone) is Failure.OTHER
    assert classify("Error: Kubernetes cluster unreachable: connection refused") is (
        Failure.UNREACHABLE
    )
    established = {"status": {"conditions": [{"type": "Established", "status": "True"}]}}
    assert crd_established(json.dumps(established))
    assert not crd_established(json.dumps({"status": {"conditions": []}}))
    assert not crd_established("Error from server (NotFound)")
    assert crd_argv("a.b", Connection(Path("/k"), "c")) == [
        "get", "customresourcedefinition", "a.b", "--output", "json",
        "--kubeconfig", "/k", "--context", "c",
    ]  # fmt: skip
