"""Cross-field rules that the case folders cannot reach: the image catalog's platforms."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from chartgen import images
from chartgen.kinds import kinds, nginx
from chartgen.validate import validate_file
from tests.conftest import REPO

EXPLICIT_ARM = (
    (REPO / "datacenter.yaml")
    .read_text()
    .replace(
        "    type: nginx\n    replicas: 2\n",
        "    type: nginx\n    replicas: 2\n    architectures: [arm64, amd64]\n",
    )
)


def test_an_explicit_architecture_an_image_lacks_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_arm64 = dataclasses.replace(images.NGINX, platforms=frozenset({"amd64", "arm"}))
    monkeypatch.setitem(kinds(), "nginx", dataclasses.replace(nginx.KIND, images=(without_arm64,)))
    (tmp_path / "datacenter.yaml").write_text(EXPLICIT_ARM)
    validation = validate_file(str(tmp_path / "datacenter.yaml"))
    errors = [p.format() for p in validation.problems if p.is_error]
    assert errors == [
        f"{tmp_path / 'datacenter.yaml'}:30:21: services[0].architectures[0]: "
        'the images of a nginx service are not published for "arm64"'
    ]


def test_default_architectures_leave_out_what_an_image_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_arm64 = dataclasses.replace(images.NGINX, platforms=frozenset({"amd64", "arm"}))
    monkeypatch.setitem(kinds(), "nginx", dataclasses.replace(nginx.KIND, images=(without_arm64,)))
    validation = validate_file(str(REPO / "datacenter.yaml"))
    assert validation.datacenter is not None
    assert validation.datacenter.services[0].architectures == ("amd64",)
    assert validation.datacenter.services[1].architectures == ("amd64", "arm64")


def test_every_catalog_image_is_pinned_and_sourced() -> None:
    catalog = [value for value in vars(images).values() if isinstance(value, images.Image)]
    assert len(catalog) >= 7
    for image in catalog:
        assert image.tag and image.tag != "latest"
        assert image.platforms
        assert image.source


def test_every_volume_size_of_the_file_is_checked_whatever_the_service_type() -> None:
    """Rule 15 reads the file, not a type's model: a `volumes[].storage` is checked too."""
    from chartgen.loader import load_text
    from chartgen.rules import quantities_positive

    validation = validate_file(str(REPO / "datacenter.yaml"))
    assert validation.datacenter is not None
    text = (
        "services:\n"
        "  - name: app\n"
        "    volumes:\n"
        "      - {name: data, mountPath: /data, storage: {size: 0Ti}}\n"
        "      - {name: more, mountPath: /more, storage: {size: 1Gi}}\n"
        "      - {name: tmp, mountPath: /tmp, emptyDir: true}\n"
    )
    loaded = load_text(text, "f.yaml")
    assert loaded.document is not None
    problems = quantities_positive(validation.datacenter, loaded.document)
    assert [problem.format() for problem in problems] == [
        'f.yaml:4:56: services[0].volumes[0].storage.size: "0Ti" is not greater than zero: '
        "a volume needs a size, such as 10Gi"
    ]


def _cni_warnings(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    from chartgen.rules import NETWORK_POLICIES_UNENFORCED

    (tmp_path / "datacenter.yaml").write_text(text)
    validation = validate_file(str(tmp_path / "datacenter.yaml"))
    assert validation.datacenter is not None
    return [
        (p.format().removeprefix(f"{tmp_path / 'datacenter.yaml'}:"), p.rule)
        for p in validation.problems
        if p.rule == NETWORK_POLICIES_UNENFORCED
    ]


def test_a_cni_without_network_policies_is_warned_once_at_cluster_cni(tmp_path: Path) -> None:
    """flannel ignores NetworkPolicies: one warning for the whole file, naming what is open."""
    text = (REPO / "datacenter.yaml").read_text()
    assert "  cni: flannel\n" in text
    found = _cni_warnings(tmp_path, text)
    assert found == [
        (
            "13:8: warning: cluster.cni: flannel enforces no NetworkPolicy, and the charts rely "
            'on theirs: any pod of the cluster can reach the PostgreSQL and Redis of "cloud"; '
            'and every port of the pods of "web". Choose calico or cilium to enforce them',
            "network-policies-unenforced",
        )
    ]
    # flannel by default: the warning points at the cluster block.
    (default,) = _cni_warnings(tmp_path, text.replace("  cni: flannel\n", ""))
    assert default[0].startswith("9:3: warning: cluster: flannel enforces no NetworkPolicy")


@pytest.mark.parametrize("cni", ["calico", "cilium"])
def test_a_cni_that_enforces_network_policies_is_not_warned(tmp_path: Path, cni: str) -> None:
    text = (REPO / "datacenter.yaml").read_text().replace("  cni: flannel\n", f"  cni: {cni}\n")
    assert _cni_warnings(tmp_path, text) == []


def _with_sites(count: int) -> str:
    text = (REPO / "datacenter.yaml").read_text()
    extra = "".join(f"  - {{name: site{i}, type: nginx, replicas: 2}}\n" for i in range(count))
    assert "\nplatform:" in text
    return text.replace("\nplatform:", "\n" + extra + "platform:", 1)


def test_the_cni_warning_names_three_services_and_counts_the_rest(tmp_path: Path) -> None:
    (found,) = _cni_warnings(tmp_path, _with_sites(3))
    assert found[0].endswith(
        'any pod of the cluster can reach the PostgreSQL and Redis of "cloud"; every port of '
        'the pods of "web", "site0"; and the pods of 2 more services. Choose calico or cilium '
        "to enforce them"
    )
    (one_more,) = _cni_warnings(tmp_path, _with_sites(2))
    assert "; and the pods of 1 more service. Choose" in one_more[0]
