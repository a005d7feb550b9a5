"""Per-chart knowledge: which blueprint a chart uses and the values chartgen gives it.

Each chart module exposes a pure `chart_source(...) -> ChartSource`; `chartgen.render`
turns a ChartSource into files (blueprint copied, `.j2` rendered, values.yaml merged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

AccessMode = Literal["ReadWriteOnce", "ReadWriteMany"]


@dataclass(frozen=True)
class Claim:
    """A PersistentVolumeClaim a chart creates, as the storage chart must know it."""

    namespace: str
    name: str
    storage_class: str
    size: str
    access_mode: AccessMode


@dataclass(frozen=True)
class ChartSource:
    """What a generated chart is made of."""

    blueprint: str  # folder under blueprints/
    values: Mapping[str, Any]  # set into the blueprint's values.yaml; keys must exist there
    app_version: str  # Chart.yaml appVersion
    claims: tuple[Claim, ...] = field(default=())
    timeout: str | None = None  # the release's helm --timeout (releases.yaml), None: helm's
    forward_only: bool = False  # never rolled back onto an older appVersion (releases.yaml)
