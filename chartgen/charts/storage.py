"""The storage chart: one per datacenter, installed before the services that claim volumes.

NFS classes are served by the NFS subdir external provisioner (a Deployment per class, so each
StorageClass names its own provisioner); local classes get one pre-created PersistentVolume per
claim, pinned to the class's node, because local volumes have no dynamic provisioner.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from chartgen.charts import ChartSource, Claim
from chartgen.charts.common import arch_affinity, resource_block, usable_architectures
from chartgen.images import NFS_PROVISIONER, NGINX
from chartgen.model import Datacenter, Resources, StorageClass
from chartgen.model_types import Arch

BLUEPRINT = "storage"
RELEASE_NAME = "chartgen-storage"
NAMESPACE = "chartgen-system"

PROVISIONER_DOMAIN = "chartgen.io"
# The name part of a StorageClass provisioner is a qualified name: 63 characters at most.
_PROVISIONER_NAME_MAX = 63
_HASH_LENGTH = 8

PROVISIONER_RESOURCES = Resources(cpu="20m", memory="64Mi")
TEST_RESOURCES = Resources(cpu="10m", memory="16Mi")
# A local disk is never shared between nodes.
_LOCAL_ACCESS_MODES = frozenset({"ReadWriteOnce"})


def chart_source(dc: Datacenter, claims: Sequence[Claim]) -> ChartSource | None:
    """The storage chart of the datacenter, or None when it declares no storage class."""
    if not dc.storage:
        return None
    _check_claims(dc, claims)
    nfs_classes = [entry for entry in dc.storage if entry.type == "nfs"]
    local_classes = [entry for entry in dc.storage if entry.type == "local"]
    values: dict[str, Any] = {
        "nfs": {"classes": [_nfs_class(entry) for entry in nfs_classes]},
        "local": {"classes": [_local_class(entry, claims) for entry in local_classes]},
        "image": {"repository": NFS_PROVISIONER.repository, "tag": NFS_PROVISIONER.tag},
        "resources": resource_block(PROVISIONER_RESOURCES),
        "affinity": arch_affinity(provisioner_architectures(dc)),
        "tests": {
            "image": {"repository": NGINX.repository, "tag": NGINX.tag},
            "resources": resource_block(TEST_RESOURCES),
        },
    }
    return ChartSource(
        blueprint=BLUEPRINT, values=values, app_version=NFS_PROVISIONER.tag.removeprefix("v")
    )


def provisioner_name(class_name: str) -> str:
    """`chartgen.io/nfs-<class>`, unique per class; shortened with a hash past 63 characters."""
    name = f"nfs-{class_name}"
    if len(name) > _PROVISIONER_NAME_MAX:
        digest = hashlib.sha256(class_name.encode("utf-8")).hexdigest()[:_HASH_LENGTH]
        keep = _PROVISIONER_NAME_MAX - _HASH_LENGTH - 1
        name = f"{name[:keep].rstrip('-')}-{digest}"
    return f"{PROVISIONER_DOMAIN}/{name}"


def provisioner_architectures(dc: Datacenter) -> tuple[Arch, ...]:
    """Architectures of the schedulable nodes that the provisioner image supports.

    Without any such node the provisioner cannot run anywhere; the image's own platforms keep
    the affinity valid (an `In` with no value is rejected) and the pod simply stays Pending.
    """
    return tuple(usable_architectures(dc.pod_nodes, NFS_PROVISIONER.platforms))


def _nfs_class(entry: StorageClass) -> dict[str, Any]:
    if entry.nfs is None:
        raise ValueError(f"nfs class {entry.name!r} has no export")  # the schema requires one
    return {
        "name": entry.name,
        "default": entry.default,
        "server": entry.nfs.server,
        "path": entry.nfs.path,
        "provisionerName": provisioner_name(entry.name),
    }


def _local_class(entry: StorageClass, claims: Sequence[Claim]) -> dict[str, Any]:
    if entry.local is None:
        raise ValueError(f"local class {entry.name!r} has no folder")  # the schema requires one
    own = sorted(
        {claim for claim in claims if claim.storage_class == entry.name},
        key=lambda claim: (claim.namespace, claim.name),
    )
    return {
        "name": entry.name,
        "default": entry.default,
        "node": entry.local.node,
        "path": entry.local.path,
        "volumes": [
            {
                "claim": {"namespace": claim.namespace, "name": claim.name},
                "size": claim.size,
                "accessMode": claim.access_mode,
            }
            for claim in own
        ],
    }


def _check_claims(dc: Datacenter, claims: Sequence[Claim]) -> None:
    """Claims come from chartgen's own charts over a validated model: a mismatch is a bug."""
    seen: dict[tuple[str, str], Claim] = {}
    for claim in claims:
        other = seen.setdefault((claim.namespace, claim.name), claim)
        if other != claim:
            raise ValueError(f"claim {claim.namespace}/{claim.name} is made twice, differently")
        entry = dc.storage_class(claim.storage_class)
        if entry is None:
            raise ValueError(
                f"claim {claim.namespace}/{claim.name} names an unknown storage class "
                f"{claim.storage_class!r}"
            )
        if entry.type == "local" and claim.access_mode not in _LOCAL_ACCESS_MODES:
            raise ValueError(
                f"claim {claim.namespace}/{claim.name} asks {claim.access_mode} of local class "
                f"{entry.name!r}, which offers ReadWriteOnce only"
            )
