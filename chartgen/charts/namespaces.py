"""The namespaces chart: every namespace chartgen deploys into, with its Pod Security level.

It is a release of its own, installed before all the others, so that the namespaces carry their
Pod Security labels before any pod is admitted into them.
"""

from __future__ import annotations

from collections.abc import Mapping

from chartgen.charts import ChartSource
from chartgen.model import Datacenter

BLUEPRINT = "namespaces"
RELEASE_NAME = "chartgen-namespaces"
# Helm keeps a release's record in its namespace, which must exist before the release: the
# namespaces release cannot live in one of the namespaces it creates.
RELEASE_NAMESPACE = "default"
# Made by Kubernetes itself: Helm could not create them, and relabelling them is the cluster
# administrator's decision, not a chart's.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def chart_source(dc: Datacenter, levels: Mapping[str, str]) -> ChartSource:
    """The namespaces chart for `levels` (namespace -> Pod Security level)."""
    namespaces = [
        {"name": name, "podSecurity": level}
        for name, level in sorted(levels.items())
        if name not in SYSTEM_NAMESPACES
    ]
    values = {
        "namespaces": namespaces,
        "podSecurityVersion": f"v1.{dc.cluster.minor}",
    }
    return ChartSource(blueprint=BLUEPRINT, values=values, app_version=f"1.{dc.cluster.minor}")
