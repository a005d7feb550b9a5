"""Grafana's administrator login, made once in the cluster. Pure.

Left to itself, the Grafana chart draws the admin password with `randAlphaNum` whenever it is
rendered and keeps it on upgrade with `lookup`. Argo CD renders charts with `helm template`,
where `lookup` finds nothing: every sync would write a new password into the Secret, and the
login in it would stop matching the one Grafana took at its first start.

So the monitoring release carries a hook Job (kube-prometheus-stack's `extraManifests`):
before install and before every upgrade (Argo CD: PreSync), it creates the Secret
`SECRET_NAME` when it does not exist yet, with a password drawn in the pod; Grafana reads it
through `admin.existingSecret`. Nothing secret is rendered, and Helm does not own the Secret:
upgrades keep it, uninstalling leaves it.

The chart passes every `extraManifests` item through `tpl`: nothing here may contain `{{`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chartgen import images
from chartgen.charts.common import arch_affinity, usable_architectures
from chartgen.model import Datacenter
from chartgen.model_types import Arch

SECRET_NAME = "monitoring-grafana-admin"
ADMIN_USER = "admin"
USER_KEY = "admin-user"
PASSWORD_KEY = "admin-password"
HOOK_IMAGE = images.KUBECTL
COMPONENT = "grafana-admin"
# Helm creates hooks of one event by weight: the account and its rights before the Job.
_ACCESS_WEIGHT = "-10"
_JOB_WEIGHT = "0"
_UID = 65534

# The password is drawn here, at run time, from /dev/urandom (24 random bytes, 32 URL-safe
# characters), and reaches the API server on stdin only. An existing Secret is kept: the
# script runs before every upgrade.
SCRIPT = f"""\
set -euo pipefail
if found=$(kubectl get secret "$SECRET_NAME" --namespace "$NAMESPACE" -o name 2>&1); then
  echo "Secret $SECRET_NAME exists: kept as it is."
  exit 0
elif ! grep -q NotFound <<<"$found"; then
  echo "$found" >&2
  exit 1
fi
password=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
if ! created=$(kubectl create --namespace "$NAMESPACE" -f - 2>&1 <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: $SECRET_NAME
  labels:
    app.kubernetes.io/component: {COMPONENT}
    app.kubernetes.io/part-of: chartgen
  annotations:
    chartgen/created-by: "the {COMPONENT} hook Job; not managed by Helm, kept on uninstall"
type: Opaque
stringData:
  {USER_KEY}: {ADMIN_USER}
  {PASSWORD_KEY}: "$password"
EOF
); then
  if grep -q AlreadyExists <<<"$created"; then
    echo "Secret $SECRET_NAME was created meanwhile: kept as it is."
    exit 0
  fi
  echo "$created" >&2
  exit 1
fi
echo "Created Secret $SECRET_NAME."
"""


def grafana_values() -> dict[str, Any]:
    """The Grafana subchart's values: its login from the Secret the hook makes."""
    return {
        "admin": {
            "existingSecret": SECRET_NAME,
            "userKey": USER_KEY,
            "passwordKey": PASSWORD_KEY,
        }
    }


def hook_architectures(dc: Datacenter) -> list[Arch]:
    """Where the hook may run: the kubectl image's architectures among the nodes that take
    pods (a rule reports a datacenter with none)."""
    return usable_architectures(dc.pod_nodes, HOOK_IMAGE.platforms)


def hook_manifests(dc: Datacenter, namespace: str) -> list[dict[str, Any]]:
    """The ServiceAccount, Role, RoleBinding and Job of the hook, in NAMESPACE."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _metadata(namespace, _ACCESS_WEIGHT),
            "automountServiceAccountToken": False,
        },
        {
            # Least privilege: read that one Secret, create Secrets (a create request carries
            # no name to restrict on).
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _metadata(namespace, _ACCESS_WEIGHT),
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "resourceNames": [SECRET_NAME],
                    "verbs": ["get"],
                },
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _metadata(namespace, _ACCESS_WEIGHT),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": SECRET_NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": SECRET_NAME, "namespace": namespace}],
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": _metadata(namespace, _JOB_WEIGHT),
            "spec": {
                "backoffLimit": 3,
                "activeDeadlineSeconds": 600,
                "template": {
                    "metadata": {"labels": _labels()},
                    "spec": _pod_spec(namespace, hook_architectures(dc)),
                },
            },
        },
    ]


def _labels() -> dict[str, str]:
    return {
        "app.kubernetes.io/name": COMPONENT,
        "app.kubernetes.io/component": COMPONENT,
        "app.kubernetes.io/part-of": "chartgen",
    }


def _metadata(namespace: str, weight: str) -> dict[str, Any]:
    return {
        "name": SECRET_NAME,
        "namespace": namespace,
        "labels": _labels(),
        "annotations": {
            "helm.sh/hook": "pre-install,pre-upgrade",
            "helm.sh/hook-weight": weight,
            "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
        },
    }


def _pod_spec(namespace: str, architectures: Iterable[Arch]) -> dict[str, Any]:
    return {
        "serviceAccountName": SECRET_NAME,
        # The one pod of the release's hooks that talks to the API server as this account.
        "automountServiceAccountToken": True,
        "enableServiceLinks": False,
        "restartPolicy": "Never",
        "affinity": arch_affinity(architectures),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": _UID,
            "runAsGroup": _UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": COMPONENT,
                "image": HOOK_IMAGE.reference,
                "imagePullPolicy": "IfNotPresent",
                "command": ["/bin/bash", "-c", SCRIPT],
                "env": [
                    {"name": "SECRET_NAME", "value": SECRET_NAME},
                    {"name": "NAMESPACE", "value": namespace},
                    # kubectl keeps its discovery cache under $HOME.
                    {"name": "HOME", "value": "/tmp"},
                ],
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": {
                    "requests": {"cpu": "10m", "memory": "64Mi"},
                    "limits": {"cpu": "200m", "memory": "64Mi"},
                },
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
            }
        ],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
