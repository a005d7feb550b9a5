"""Pod Security: the checker on hand-made pod specs, the rendered charts against the levels
chartgen assigns, and the namespaces chart that carries those levels."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from ruamel.yaml import YAML

from chartgen.charts import namespaces
from chartgen.kinds import kind_of
from chartgen.model_types import Level
from chartgen.pod_security import (
    STORAGE_LEVEL,
    check_objects,
    check_pod_spec,
    namespace_levels,
    pod_specs,
    strictest_level,
    weakest,
)
from chartgen.render import _chart_files
from tests.conftest import REPO
from tests.rendered_manifests import HELM, VALID, Release, helm, load, render_case

Spec = dict[str, Any]


def restricted_pod() -> Spec:
    """A pod spec that meets restricted, as chartgen's charts write them."""
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "app",
                "image": "example/app:1",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
        "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "c", "configMap": {"name": "c"}}],
    }


def container_context(spec: Spec) -> dict[str, Any]:
    context: dict[str, Any] = spec["containers"][0]["securityContext"]
    return context


# Each mutation breaks one rule; the level is the profile the rule belongs to.
BASELINE_BREAKS: dict[str, Callable[[Spec], None]] = {
    "hostNetwork": lambda s: s.update(hostNetwork=True),
    "hostPID": lambda s: s.update(hostPID=True),
    "hostIPC": lambda s: s.update(hostIPC=True),
    "hostPath": lambda s: s["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
    "privileged": lambda s: container_context(s).update(privileged=True),
    "capability": lambda s: container_context(s)["capabilities"].update(add=["SYS_ADMIN"]),
    "hostPort": lambda s: s["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 80}]),
    "procMount": lambda s: container_context(s).update(procMount="Unmasked"),
    "seccomp-unconfined": lambda s: s["securityContext"].update(
        seccompProfile={"type": "Unconfined"}
    ),
    "apparmor": lambda s: container_context(s).update(appArmorProfile={"type": "Unconfined"}),
    "selinux-type": lambda s: container_context(s).update(seLinuxOptions={"type": "spc_t"}),
    "selinux-user": lambda s: s["securityContext"].update(seLinuxOptions={"user": "root"}),
    "sysctl": lambda s: s["securityContext"].update(
        sysctls=[{"name": "kernel.msgmax", "value": "1"}]
    ),
    "hostProcess": lambda s: container_context(s).update(windowsOptions={"hostProcess": True}),
    "init-container": lambda s: s.update(
        initContainers=[{"name": "i", "securityContext": {"privileged": True}}]
    ),
}
RESTRICTED_BREAKS: dict[str, Callable[[Spec], None]] = {
    "nfs-volume": lambda s: s["volumes"].append({"name": "n", "nfs": {"server": "x", "path": "/"}}),
    "escalation-unset": lambda s: container_context(s).pop("allowPrivilegeEscalation"),
    "escalation-true": lambda s: container_context(s).update(allowPrivilegeEscalation=True),
    "root-allowed": lambda s: s["securityContext"].pop("runAsNonRoot"),
    "root-container": lambda s: container_context(s).update(runAsNonRoot=False),
    "uid-0": lambda s: container_context(s).update(runAsUser=0),
    "pod-uid-0": lambda s: s["securityContext"].update(runAsUser=0),
    "no-seccomp": lambda s: s["securityContext"].pop("seccompProfile"),
    "capabilities-kept": lambda s: container_context(s).pop("capabilities"),
    "capability-added": lambda s: container_context(s)["capabilities"].update(add=["CHOWN"]),
}


def test_the_reference_pod_meets_restricted() -> None:
    assert check_pod_spec(restricted_pod(), "restricted") == []
    assert strictest_level(restricted_pod()) == "restricted"


@pytest.mark.parametrize("rule", sorted(BASELINE_BREAKS))
def test_each_baseline_rule_is_checked(rule: str) -> None:
    spec = copy.deepcopy(restricted_pod())
    BASELINE_BREAKS[rule](spec)
    problems = check_pod_spec(spec, "baseline", "Deployment/x", "spec.template.spec")
    assert problems, rule
    assert {problem.level for problem in problems} == {"baseline"}
    assert all(problem.path.startswith("spec.template.spec") for problem in problems)
    assert strictest_level(spec) == "privileged"
    assert check_pod_spec(spec, "privileged") == []


@pytest.mark.parametrize("rule", sorted(RESTRICTED_BREAKS))
def test_each_restricted_rule_is_checked(rule: str) -> None:
    spec = copy.deepcopy(restricted_pod())
    RESTRICTED_BREAKS[rule](spec)
    problems = check_pod_spec(spec, "restricted")
    assert problems, rule
    assert {problem.level for problem in problems} == {"restricted"}
    assert check_pod_spec(spec, "baseline") == []
    assert strictest_level(spec) == "baseline"


def test_container_settings_may_come_from_the_pod_or_the_container() -> None:
    spec = restricted_pod()
    spec["securityContext"] = {}
    container_context(spec).update(runAsNonRoot=True, seccompProfile={"type": "Localhost"})
    assert check_pod_spec(spec, "restricted") == []
    spec["containers"][0]["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    assert check_pod_spec(spec, "restricted") == []


def test_a_problem_names_the_object_the_field_and_the_level() -> None:
    spec = restricted_pod()
    spec["hostNetwork"] = True
    [problem] = check_objects(
        [{"kind": "CronJob", "metadata": {"name": "c"}, "spec": _cronjob(spec)}], "baseline"
    )
    assert problem.format() == (
        "CronJob/c: spec.jobTemplate.spec.template.spec.hostNetwork: "
        "host namespaces are not allowed (Pod Security baseline)"
    )


def _cronjob(spec: Spec) -> Spec:
    return {"jobTemplate": {"spec": {"template": {"spec": spec}}}}


def test_pod_specs_of_every_workload_kind() -> None:
    spec = restricted_pod()
    objects = [
        {"kind": "Pod", "metadata": {"name": "p"}, "spec": spec},
        {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": spec}}},
        {"kind": "StatefulSet", "metadata": {"name": "s"}, "spec": {"template": {"spec": spec}}},
        {"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": spec}}},
        {"kind": "CronJob", "metadata": {"name": "c"}, "spec": _cronjob(spec)},
        {"kind": "Service", "metadata": {"name": "v"}, "spec": {}},
    ]
    found = [where for item in objects for where, _path, _spec in pod_specs(item)]
    assert found == ["Pod/p", "Deployment/d", "StatefulSet/s", "Job/j", "CronJob/c"]


def test_weakest_level() -> None:
    assert weakest(["restricted", "baseline", "restricted"]) == "baseline"
    assert weakest(["restricted"]) == "restricted"


# --- the rendered charts against the levels chartgen assigns --------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Release]]:
    return {
        case.name: render_case(case, tmp_path_factory.mktemp(case.name) / "generated")
        for case in VALID
    }


@pytest.mark.parametrize("case", VALID, ids=[path.name for path in VALID])
def test_every_rendered_pod_meets_its_namespace_level(
    case: Path, rendered: dict[str, list[Release]]
) -> None:
    levels = namespace_levels(load(case))
    pods = 0
    for release in rendered[case.name]:
        if not any(next(pod_specs(item), None) for item in release.objects):
            continue  # no pod (a local-only storage chart, the namespaces chart)
        problems = check_objects(release.objects, levels[release.namespace])
        assert problems == [], [problem.format() for problem in problems]
        pods += sum(1 for item in release.objects for _ in pod_specs(item))
    assert pods > 0


def test_the_levels_are_the_strictest_the_charts_meet(rendered: dict[str, list[Release]]) -> None:
    """No chart is given a weaker level than its pods allow: per service, the weakest level its
    pods meet is the level its kind declares for it; the storage chart's, STORAGE_LEVEL."""
    declared: dict[tuple[str, str], Level] = {}
    met: dict[tuple[str, str], set[Level]] = {}
    for case in VALID:
        dc = load(case)
        services = {service.name: service for service in dc.services}
        for release in rendered[case.name]:
            service = services.get(release.name)
            key = (case.name, release.name)
            declared[key] = (
                kind_of(service).pod_security(service) if service is not None else STORAGE_LEVEL
            )
            for item in release.objects:
                for _where, _path, spec in pod_specs(item):
                    met.setdefault(key, set()).add(strictest_level(spec))
    assert met
    assert {key: weakest(sorted(levels)) for key, levels in met.items()} == {
        key: declared[key] for key in met
    }


def test_namespace_levels_of_the_example() -> None:
    dc = load(REPO)
    assert namespace_levels(dc) == {
        "chartgen-system": "baseline",
        "cloud": "restricted",
        "web": "restricted",
    }


# --- the namespaces chart --------------------------------------------------------------------


def _namespaces_chart(case: Path, levels: dict[str, str], out: Path) -> Path:
    dc = load(case)
    files = _chart_files(
        PurePosixPath("namespaces"), namespaces.chart_source(dc, levels), "datacenter.yaml"
    )
    for path, data in files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)
    return out / "namespaces"


def test_the_namespaces_chart_labels_each_namespace_with_its_level(tmp_path: Path) -> None:
    dc = load(REPO)
    levels: dict[str, str] = dict(namespace_levels(dc))
    levels["default"] = "restricted"  # made by Kubernetes: never created nor relabelled
    chart = _namespaces_chart(REPO, levels, tmp_path)
    helm("lint", "--strict", str(chart))
    manifest = helm(
        "template", namespaces.RELEASE_NAME, str(chart), "-n", namespaces.RELEASE_NAMESPACE
    )
    objects = Release("x", "x", "default", chart, manifest).objects
    assert [item["metadata"]["name"] for item in objects] == ["chartgen-system", "cloud", "web"]
    for item in objects:
        assert item["kind"] == "Namespace"
        labels = item["metadata"]["labels"]
        level = levels[item["metadata"]["name"]]
        for mode in ("enforce", "warn", "audit"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == level
            assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.31"
        assert labels["app.kubernetes.io/part-of"] == "chartgen"
        assert item["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        assert "namespace" not in item["metadata"]  # cluster-scoped
    assert (
        helm("template", namespaces.RELEASE_NAME, str(chart), "-n", namespaces.RELEASE_NAMESPACE)
        == manifest
    )


def test_the_namespaces_chart_refuses_an_unknown_level(tmp_path: Path) -> None:
    chart = _namespaces_chart(REPO, {"web": "restricted"}, tmp_path)
    done = helm_fails("template", "n", str(chart), "--set", "namespaces[0].podSecurity=strict")
    assert "podSecurity" in done


def helm_fails(*args: str) -> str:
    done = subprocess.run([HELM, *args], capture_output=True, text=True, check=False)
    assert done.returncode != 0, done.stdout
    return done.stderr


def test_the_readme_of_the_namespaces_blueprint_lists_every_value() -> None:
    blueprint = REPO / "blueprints" / "namespaces"
    values = YAML(typ="safe", pure=True).load((blueprint / "values.yaml").read_text())
    readme = (blueprint / "README.md").read_text(encoding="utf-8")
    listed = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `")}
    assert listed == set(values)
