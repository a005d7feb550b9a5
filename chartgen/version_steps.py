"""Version steps a build must not take: it compares with the tree it replaces.

A Nextcloud upgrades one major version at a time and never goes back; a PostgreSQL of another
major version does not read the data files of the previous one. When chartgen's pins
(`chartgen.images`) or a service's `image:` move further than that, the charts would install
and the pods would refuse to start, so `chartgen build` refuses first, at the service, saying
what to do. The versions of the existing tree are read from what it holds: the Nextcloud
chart's `Chart.yaml` appVersion and its values' `postgresql.image.tag`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from chartgen import images
from chartgen.kinds.nextcloud import NextcloudService, database_claim_name, nextcloud_version
from chartgen.loader import Document
from chartgen.model import Datacenter
from chartgen.problems import Problem
from chartgen.rule_support import error_at, has_key, service_path
from chartgen.versions import major, numbers, older

ESCAPE_FLAG = "--allow-version-jump"


def version_jumps(dc: Datacenter, document: Document, out: Path) -> list[Problem]:
    """The Nextcloud and PostgreSQL version changes from the tree in OUT that cannot be made."""
    problems: list[Problem] = []
    for service in dc.services:
        if isinstance(service, NextcloudService):
            problems += _service_jumps(service, document, out / "charts" / service.name)
    return problems


def _service_jumps(service: NextcloudService, document: Document, chart: Path) -> Iterator[Problem]:
    meta = _yaml(chart / "Chart.yaml")
    if not isinstance(meta, dict) or meta.get("name") != "nextcloud":
        return  # no tree yet, or another chart by that name: nothing to step from
    old = str(meta.get("appVersion") or "")
    new = nextcloud_version((service.image or images.NEXTCLOUD).tag)
    message = _nextcloud_step(service.name, old, new, chart)
    if message is not None:
        at = service_path(service, "image") if has_key(document, service, "image") else None
        yield error_at(document, at or service_path(service), message)
    values = _yaml(chart / "values.yaml")
    old_database = _postgres_tag(values)
    message = _postgres_step(service.name, old_database, images.POSTGRES.tag, chart)
    if message is not None:
        yield error_at(document, service_path(service), message)


def _nextcloud_step(name: str, old: str, new: str, chart: Path) -> str | None:
    old_major, new_major = major(old), major(new)
    if old_major is None or new_major is None:
        return None
    if older(new, old):
        return (
            f"Nextcloud {old} runs from {chart}; {new} is older, and Nextcloud does not start "
            f"over data that a newer version upgraded. Keep {old} (`image: {{repository: "
            f'{images.NEXTCLOUD.repository}, tag: "{old}-fpm"}}`), or restore a backup made '
            f"by {new} (`chartgen restore {name} DUMP`) after a build with {ESCAPE_FLAG}"
        )
    if new_major > old_major + 1:
        step = old_major + 1
        return (
            f"Nextcloud {old} runs from {chart}; {new} skips a major version, and Nextcloud "
            f"upgrades one major version at a time ({old_major} -> {step}). First pin the "
            f"last {step} release in this service (`image: {{repository: "
            f'{images.NEXTCLOUD.repository}, tag: "{step}.x.y-fpm"}}`), build, install and let '
            f"the upgrade finish; then move on to {new}. A deliberate jump: {ESCAPE_FLAG}"
        )
    return None


def _postgres_step(name: str, old: str | None, new: str, chart: Path) -> str | None:
    if old is None or major(old) is None or major(old) == major(new):
        return None
    return (
        f"PostgreSQL {old} holds the database of {chart}; {new} is another major version and "
        f"does not read its data files. Dump the database (`chartgen backup {name}`), build "
        f"with {ESCAPE_FLAG}, delete the claim {database_claim_name(name)} so that {new} "
        f"starts empty, install, then load the dump (`chartgen restore {name} DUMP`)"
    )


def _postgres_tag(values: Any) -> str | None:
    postgresql = values.get("postgresql") if isinstance(values, dict) else None
    image = postgresql.get("image") if isinstance(postgresql, dict) else None
    tag = image.get("tag") if isinstance(image, dict) else None
    return str(tag) if tag is not None and numbers(str(tag)) else None


def _yaml(path: Path) -> Any:
    """A file of the existing tree, None when it is not there or not YAML. chartgen wrote it, so
    libyaml reads it (ruamel's pure-Python parser took a tenth of a second for one values.yaml,
    on every build); without libyaml, ruamel."""
    import yaml

    try:
        text = path.read_bytes()
    except OSError:
        return None
    loader = getattr(yaml, "CSafeLoader", None)
    try:
        if loader is not None:
            return yaml.load(text, Loader=loader)
        return YAML(typ="safe", pure=True).load(text)
    except (yaml.YAMLError, YAMLError, UnicodeDecodeError):
        return None
