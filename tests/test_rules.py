"""Cross-field rules that the case folders cannot reach: the image catalog's platforms."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from chartgen import images
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
    monkeypatch.setitem(images.IMAGES_BY_SERVICE_TYPE, "nginx", (without_arm64,))
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
    monkeypatch.setitem(images.IMAGES_BY_SERVICE_TYPE, "nginx", (without_arm64,))
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
