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
