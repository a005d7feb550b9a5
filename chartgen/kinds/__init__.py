"""Service types ("kinds"): one module each, registered in `KINDS`, the one table that the model
builder, the rules, the Pod Security labels and the renderer read.

A kind declares its model (a `Service` subclass) and how to build it from a schema-valid entry,
the images its pods run (so the architectures it supports), its default resources, the Pod
Security level its pods meet, its own cross-field rules, and `chart_source`, the values of its
blueprint (`blueprints/<name>/`). Adding a type is a blueprint folder, a module here and a line
in `KINDS`, plus its JSON Schema fragment and tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Generic, Literal, TypeVar

from chartgen.charts import ChartSource
from chartgen.images import Image
from chartgen.loader import Document, PathPart
from chartgen.model import Datacenter, Resources, Service, Volume
from chartgen.model_types import ARCHES, Arch, Level
from chartgen.problems import Problem

S = TypeVar("S", bound=Service)
Placement = Literal["replicas", "every-node", "scheduled"]


@dataclass(frozen=True)
class BuildContext:
    """What a kind's builder may need beyond its own entry."""

    tls_default: bool  # `expose.tls` when the entry does not say (true with certificates)


@dataclass(frozen=True)
class Kind(Generic[S]):
    name: str
    # Every image the kind's pods run; empty when the user names the only one (`app`).
    images: tuple[Image, ...]
    default_resources: Resources
    # The service from its schema-valid entry and the fields every service has.
    build: Callable[[Mapping[str, Any], Mapping[str, Any], BuildContext], S]
    chart_source: Callable[[Datacenter, S], ChartSource]
    pod_security: Callable[[S], Level]
    # The kind's own cross-field rules (after the schema), positioned in the file.
    rules: Callable[[Datacenter, S, Document], Iterator[Problem]] = lambda _dc, _s, _doc: iter(())
    # Requests of every pod the service runs at full scale, as (requests, pod count).
    workload_requests: Callable[[S], list[tuple[Resources, int]]] = lambda service: [
        (service.resources, service.peak_replicas)
    ]
    # Requests of the containers of one pod of the main workload.
    main_pod: Callable[[S], tuple[Resources, ...]] = lambda service: (service.resources,)
    # Every claim of the service, with its path under the service's entry in the file.
    volumes: Callable[[S], tuple[tuple[tuple[PathPart, ...], Volume], ...]] = lambda _s: ()
    # How the main workload's pods are placed: `replicas` of them, one on every node it may
    # run on (`every-node`), or `scheduled` runs that come and go.
    placement: Callable[[S], Placement] = lambda _service: "replicas"
    # Volumes of the main workload: a local class among them pins its pods to that node.
    main_volumes: Callable[[S], tuple[Volume, ...]] = lambda _service: ()
    # What the service runs, in a few words (the topology picture's label).
    describe: Callable[[S], str] = lambda service: str(service.type)
    # The kind's JSON Schema fragment (`<name>.schema.json` beside its module): its own keys,
    # added to `$defs/serviceCommon` by chartgen.schema_source.
    schema: Mapping[str, Any] = field(default_factory=dict)
    # Image repositories of the program the chart is made for (a user's `image` override of
    # another repository gets a warning); empty when any image fits.
    known_repositories: frozenset[str] = frozenset()
    # What the chart's NetworkPolicies protect beyond the ports of the service's own pods, in a
    # few words (a CNI that enforces none leaves it open to every pod of the cluster).
    guarded: Callable[[S], str | None] = lambda _service: None

    @property
    def supported_architectures(self) -> frozenset[Arch]:
        """Architectures on which every image of the kind runs (all, for the user's own)."""
        supported = frozenset(ARCHES)
        for image in self.images:
            supported &= image.platforms
        return supported


def schema_fragment(name: str) -> Mapping[str, Any]:
    """The JSON Schema fragment of a kind, from `chartgen/kinds/<name>.schema.json`."""
    text = (resources.files("chartgen.kinds") / f"{name}.schema.json").read_text(encoding="utf-8")
    fragment: Mapping[str, Any] = json.loads(text)
    return fragment


def _registry() -> dict[str, Kind[Any]]:
    from chartgen.kinds import app, nextcloud, nginx

    return {kind.name: kind for kind in (nginx.KIND, nextcloud.KIND, app.KIND)}


_KINDS: dict[str, Kind[Any]] = {}


def kinds() -> dict[str, Kind[Any]]:
    """Every service type, by name (the kinds' modules import this package's types, hence the
    registry is filled on first use rather than at import)."""
    if not _KINDS:
        _KINDS.update(_registry())
    return _KINDS


def kind_of(service: Service) -> Kind[Any]:
    return kinds()[service.type]
