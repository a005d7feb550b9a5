"""The images chartgen deploys and the platforms each publishes.

Source: the image index of each pinned tag (`docker buildx imagetools inspect IMAGE:TAG`,
or the tag's page on the registry), read when the tag was pinned. Only the three
architectures the datacenter format knows are recorded. Update the platforms with the tag.
"""

from __future__ import annotations

from dataclasses import dataclass

from chartgen.model_types import Arch


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str
    platforms: frozenset[Arch]
    source: str

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


_ALL: frozenset[Arch] = frozenset({"amd64", "arm64", "arm"})

NGINX = Image(
    "docker.io/nginxinc/nginx-unprivileged",
    "1.29.1-alpine",
    _ALL,
    "hub.docker.com/r/nginxinc/nginx-unprivileged: linux/amd64, arm/v6, arm/v7, arm64/v8, ...",
)
# platform.monitoring: the exporters beside the workloads (sources read at the pinned tags).
NGINX_EXPORTER = Image(
    "docker.io/nginx/nginx-prometheus-exporter",
    "1.5.3",
    _ALL,
    "github.com/nginx/nginx-prometheus-exporter v1.5.3 .github/workflows/ci.yml DOCKER_PLATFORMS: "
    "linux/arm/v5, arm/v6, arm/v7, arm64, amd64, ...; runs as 1001:1001",
)
POSTGRES_EXPORTER = Image(
    "quay.io/prometheuscommunity/postgres-exporter",
    "v0.20.1",
    _ALL,
    "github.com/prometheus-community/postgres_exporter v0.20.1 Makefile DOCKER_ARCHS: amd64 "
    "armv7 arm64 ppc64le; runs as nobody",
)
REDIS_EXPORTER = Image(
    "docker.io/oliver006/redis_exporter",
    "v1.88.0",
    _ALL,
    "github.com/oliver006/redis_exporter v1.88.0 .github/workflows/release.yml platforms: "
    "linux/amd64, linux/arm, linux/arm64; runs as 59000:59000",
)
NEXTCLOUD_EXPORTER = Image(
    "ghcr.io/xperimental/nextcloud-exporter",
    "0.9.1",
    frozenset({"amd64", "arm64"}),
    "github.com/xperimental/nextcloud-exporter v0.9.1 .github/workflows/package.yml platforms: "
    "linux/amd64, linux/arm64 (no 32-bit ARM); runs as nobody",
)
NEXTCLOUD = Image(
    "docker.io/library/nextcloud",
    "31.0.9-fpm",
    _ALL,
    "hub.docker.com/_/nextcloud: amd64, arm32v5, arm32v6, arm32v7, arm64v8, ...",
)
HTTPD = Image(
    "docker.io/library/httpd",
    "2.4.65",
    _ALL,
    "hub.docker.com/_/httpd: amd64, arm32v5, arm32v6, arm32v7, arm64v8, ...",
)
POSTGRES = Image(
    "docker.io/library/postgres",
    "17.6",
    _ALL,
    "hub.docker.com/_/postgres: amd64, arm32v5, arm32v6, arm32v7, arm64v8, ...",
)
REDIS = Image(
    "docker.io/library/redis",
    "8.2.1",
    _ALL,
    "hub.docker.com/_/redis: amd64, arm32v5, arm32v6, arm32v7, arm64v8, ...",
)
NFS_PROVISIONER = Image(
    "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner",
    "v4.0.2",
    _ALL,
    "kubernetes-sigs/nfs-subdir-external-provisioner release v4.0.2: linux/amd64, arm64, arm",
)
KUBECTL = Image(
    "registry.k8s.io/kubectl",
    "v1.33.4",
    frozenset({"amd64", "arm64"}),
    "registry.k8s.io/kubectl: linux/amd64, arm64, ppc64le, s390x (no 32-bit ARM)",
)
