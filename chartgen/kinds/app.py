"""The `app` kind: any container image, as people bring them from Docker (the seed's
monservice1..3). Deployment, StatefulSet (a claim per replica), DaemonSet or CronJob.

What the user writes is data: `env` and `files` land in values (then ConfigMaps), never in a
template; `secretEnv` only names Secrets made outside git. The rules refuse what cannot run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from chartgen.charts import AccessMode, ChartSource, Claim
from chartgen.charts.common import (
    autoscaling_values,
    node_affinity,
    objects_name,
    resource_block,
    string_map,
)
from chartgen.kinds import BuildContext, Kind, Placement, kind_of, schema_fragment
from chartgen.loader import Document, PathPart
from chartgen.model import Datacenter, ImageOverride, Resources, Service, Volume, volume_from
from chartgen.model_types import Level
from chartgen.problems import Problem
from chartgen.routes import route_values
from chartgen.rule_support import error_at, service_path, warning_at

BLUEPRINT = "app"
DEFAULT_RESOURCES = Resources(cpu="100m", memory="128Mi")
DEFAULT_SERVICE_PORT = 80
# The distroless images' `nonroot` user: a uid no image gives a login to.
DEFAULT_USER = 65532
DEFAULT_WRITABLE_PATHS = ("/tmp",)
# A ConfigMap holds at most 1 MiB (etcd's object limit, minus room for the object itself).
MAX_FILES_BYTES = 1_000_000
_STATEFULSET_NAME_LENGTH = 52

WorkloadKind = Literal["deployment", "statefulset", "daemonset", "cronjob"]
Protocol = Literal["TCP", "UDP"]
WORKLOAD_KINDS: Mapping[WorkloadKind, str] = {
    "deployment": "Deployment",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
    "cronjob": "CronJob",
}


@dataclass(frozen=True)
class Port:
    name: str
    port: int
    protocol: Protocol


@dataclass(frozen=True)
class SecretEnv:
    name: str
    secret: str
    key: str


@dataclass(frozen=True)
class AppVolume:
    name: str
    mount_path: str
    claim: Volume | None  # None: an emptyDir


@dataclass(frozen=True)
class AppFile:
    path: str
    content: str


@dataclass(frozen=True)
class Probe:
    type: Literal["http", "tcp", "exec", "none"]
    port: int | str | None = None  # a number, a port name, or None: the first TCP port
    path: str = "/"
    command: tuple[str, ...] = ()


@dataclass(frozen=True)
class Run:
    user: int
    group: int
    read_only_root: bool
    writable_paths: tuple[str, ...]


@dataclass(frozen=True)
class AppService(Service):
    ports: tuple[Port, ...]
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: Mapping[str, str]
    secret_env: tuple[SecretEnv, ...]
    volumes: tuple[AppVolume, ...]
    files: tuple[AppFile, ...]
    probe: Probe
    run: Run
    workload: WorkloadKind
    schedule: str | None
    # The Service's port of the first TCP port: `expose.port`, else that port's own number
    # (every other port keeps its own number, so the defaults never collide).
    service_port: int

    @property
    def app_image(self) -> ImageOverride:
        if self.image is None:
            raise ValueError(f"app {self.name} has no image")  # the schema requires one
        return self.image

    @property
    def first_tcp_port(self) -> Port | None:
        return next((port for port in self.ports if port.protocol == "TCP"), None)

    @property
    def pods_per_claim(self) -> int:
        """How many pods mount one claim of a Deployment or DaemonSet (at full scale)."""
        return self.peak_replicas if self.workload == "deployment" else 0


def build(raw: Mapping[str, Any], common: Mapping[str, Any], _context: BuildContext) -> AppService:
    run = raw.get("run", {})
    ports = [entry for entry in raw.get("ports", []) if entry.get("protocol", "TCP") == "TCP"]
    explicit_port = raw.get("expose", {}).get("port")
    return AppService(
        **common,
        ports=tuple(
            Port(entry["name"], entry["port"], entry.get("protocol", "TCP"))
            for entry in raw.get("ports", [])
        ),
        command=tuple(raw.get("command", [])),
        args=tuple(raw.get("args", [])),
        env=dict(raw.get("env", {})),
        secret_env=tuple(
            SecretEnv(entry["name"], entry["secret"], entry["key"])
            for entry in raw.get("secretEnv", [])
        ),
        volumes=tuple(
            AppVolume(
                entry["name"],
                entry["mountPath"],
                volume_from(entry["storage"]) if "storage" in entry else None,
            )
            for entry in raw.get("volumes", [])
        ),
        files=tuple(AppFile(entry["path"], entry["content"]) for entry in raw.get("files", [])),
        probe=_probe(raw.get("probe")),
        run=Run(
            user=run.get("user", DEFAULT_USER),
            group=run.get("group", run.get("user", DEFAULT_USER)),
            read_only_root=run.get("readOnlyRootFilesystem", True),
            writable_paths=tuple(run.get("writablePaths", DEFAULT_WRITABLE_PATHS)),
        ),
        workload=raw.get("workload", "deployment"),
        schedule=raw.get("schedule"),
        service_port=explicit_port or (ports[0]["port"] if ports else DEFAULT_SERVICE_PORT),
    )


def _probe(raw: Mapping[str, Any] | None) -> Probe:
    if raw is None:
        return Probe("tcp")
    if "http" in raw:
        return Probe("http", raw["http"].get("port"), raw["http"].get("path", "/"))
    if "tcp" in raw:
        return Probe("tcp", raw["tcp"].get("port"))
    return Probe("exec", command=tuple(raw["exec"]))


def describe(service: AppService) -> str:
    """ "miniflux 2.2.14, deployment": the image's last path part, its tag, the workload."""
    image = service.app_image
    return f"{image.repository.rsplit('/', 1)[-1]} {image.tag}, {service.workload}"


def pod_security(service: AppService) -> Level:
    """Restricted, unless the process runs as root (baseline allows it, restricted does not)."""
    return "baseline" if service.run.user == 0 else "restricted"


def volumes(service: AppService) -> tuple[tuple[tuple[PathPart, ...], Volume], ...]:
    return tuple(
        (("volumes", index, "storage"), volume.claim)
        for index, volume in enumerate(service.volumes)
        if volume.claim is not None
    )


def main_volumes(service: AppService) -> tuple[Volume, ...]:
    return tuple(volume.claim for volume in service.volumes if volume.claim is not None)


def placement(service: AppService) -> Placement:
    if service.workload == "daemonset":
        return "every-node"
    return "scheduled" if service.workload == "cronjob" else "replicas"


def workload_requests(service: AppService) -> list[tuple[Resources, int]]:
    # A DaemonSet runs a pod on every node it may: counted once here, as the file cannot say
    # how many nodes the cluster grows to; a CronJob's pods come and go.
    return [(service.resources, 1 if service.workload == "daemonset" else service.peak_replicas)]


# Rules ----------------------------------------------------------------------------------------


def rules(dc: Datacenter, service: AppService, doc: Document) -> Iterator[Problem]:
    yield from _workload_options(service, doc)
    yield from _ports(service, doc)
    yield from _service_port(service, doc)
    yield from _shared_claims(dc, service, doc)
    yield from _names_and_paths(service, doc)
    yield from _probe_port(service, doc)
    yield from _run_as_root(dc, service, doc)


def _workload_options(service: AppService, doc: Document) -> Iterator[Problem]:
    kind = service.workload
    if service.schedule is not None and kind != "cronjob":
        yield error_at(
            doc,
            service_path(service, "schedule"),
            f"only a cronjob has a schedule (workload is {kind})",
        )
    if kind in ("daemonset", "cronjob"):
        for key, what in (("autoscaling", "autoscaling"), ("replicas", "replicas")):
            if key in doc.data["services"][service.index]:
                runs = "a pod per node" if kind == "daemonset" else "a pod per run"
                yield error_at(
                    doc,
                    service_path(service, key),
                    f"a {kind} runs {runs}: {what} does not apply",
                )
    if kind == "cronjob":
        for key in ("expose", "probe"):
            if key in doc.data["services"][service.index]:
                yield error_at(
                    doc,
                    service_path(service, key),
                    f"a cronjob serves nothing between its runs: {key} does not apply",
                )
    if service.expose is not None and service.first_tcp_port is None:
        yield error_at(
            doc,
            service_path(service, "expose"),
            "expose routes to the first TCP port of `ports`, and the service declares none",
        )


def _ports(service: AppService, doc: Document) -> Iterator[Problem]:
    names: dict[str, int] = {}
    numbers: dict[tuple[int, str], int] = {}
    for index, port in enumerate(service.ports):
        if port.name in names:
            yield error_at(
                doc,
                service_path(service, "ports", index, "name"),
                f'port name "{port.name}" is used twice (first at ports[{names[port.name]}])',
            )
        names.setdefault(port.name, index)
        key = (port.port, port.protocol)
        if key in numbers:
            yield error_at(
                doc,
                service_path(service, "ports", index, "port"),
                f"{port.protocol} port {port.port} is declared twice "
                f"(first at ports[{numbers[key]}])",
            )
        numbers.setdefault(key, index)


def _service_port(service: AppService, doc: Document) -> Iterator[Problem]:
    """The Service carries every port under its own number, and the first TCP port under
    `expose.port` too: two Service ports may not share a number."""
    first = service.first_tcp_port
    if first is None or service.service_port == first.port:
        return
    for port in service.ports:
        if port is not first and port.protocol == "TCP" and port.port == service.service_port:
            yield error_at(
                doc,
                service_path(service, "expose", "port"),
                f'{service.service_port} is the number of port "{port.name}" as well: the '
                f'Service would carry it twice (for "{first.name}" and "{port.name}"); choose '
                "another expose.port",
            )


def _shared_claims(dc: Datacenter, service: AppService, doc: Document) -> Iterator[Problem]:
    """A ReadWriteOnce claim mounts on one node: replicas (or a DaemonSet's pods) that share
    it cannot all start."""
    if service.workload == "statefulset" or service.workload == "cronjob":
        return
    if service.workload == "deployment" and service.peak_replicas <= 1:
        return
    sharers = (
        "the pods of a daemonset (one per node)"
        if service.workload == "daemonset"
        else f"{service.peak_replicas} replicas"
    )
    for index, volume in enumerate(service.volumes):
        if volume.claim is None:
            continue
        storage = dc.storage_class(volume.claim.storage_class)
        if storage is None or storage.read_write_many:
            continue
        path: list[PathPart] = ["volumes", index, "storage"]
        if volume.claim.storage_class is not None:
            path.append("class")
        yield error_at(
            doc,
            service_path(service, *path),
            f'"{storage.name}" is a {storage.type} class (ReadWriteOnce only): {sharers} '
            f'cannot share the claim of volume "{volume.name}"; use an nfs class, or '
            "workload: statefulset for a claim per replica",
        )


def _names_and_paths(service: AppService, doc: Document) -> Iterator[Problem]:
    env_names = set(service.env)
    for index, entry in enumerate(service.secret_env):
        if entry.name in env_names:
            yield error_at(
                doc,
                service_path(service, "secretEnv", index, "name"),
                f'"{entry.name}" is also set in env: one variable, one source',
            )
    volume_names: dict[str, int] = {}
    mounts: dict[str, str] = {}
    for index, raw in enumerate(doc.data["services"][service.index].get("volumes", [])):
        if ("storage" in raw) == ("emptyDir" in raw):
            yield error_at(
                doc,
                service_path(service, "volumes", index),
                f'volume "{raw["name"]}" needs one of `storage` (a claim) or `emptyDir: true`'
                + (", not both" if "storage" in raw else ""),
            )
    for index, volume in enumerate(service.volumes):
        if volume.name in volume_names:
            yield error_at(
                doc,
                service_path(service, "volumes", index, "name"),
                f'volume name "{volume.name}" is used twice',
            )
        volume_names.setdefault(volume.name, index)
        yield from _mount_once(doc, service, ["volumes", index, "mountPath"], volume, mounts)
    for index, path in enumerate(service.run.writable_paths):
        yield from _mount_once(
            doc, service, ["run", "writablePaths", index], path, mounts, what="writable path"
        )
    for index, file in enumerate(service.files):
        yield from _mount_once(doc, service, ["files", index, "path"], file.path, mounts, "file")
    size = sum(len(entry.content.encode("utf-8")) for entry in service.files)
    if size > MAX_FILES_BYTES:
        yield error_at(
            doc,
            service_path(service, "files"),
            f"the files hold {size} bytes; a ConfigMap holds at most {MAX_FILES_BYTES}: "
            "put large content in the image or a volume",
        )


def _mount_once(
    doc: Document,
    service: AppService,
    path: list[PathPart],
    target: AppVolume | str,
    mounts: dict[str, str],
    what: str = "",
) -> Iterator[Problem]:
    if isinstance(target, AppVolume):
        where, label = target.mount_path, f'volume "{target.name}"'
    else:
        where, label = target, what
    normal = where.rstrip("/") or "/"
    if normal in mounts:
        yield error_at(
            doc,
            service_path(service, *path),
            f"{normal} is already mounted ({mounts[normal]}): one mount per path",
        )
    else:
        mounts[normal] = label


def _probe_port(service: AppService, doc: Document) -> Iterator[Problem]:
    probe = service.probe
    if service.workload == "cronjob" or probe.type == "exec":
        return
    if probe.port is None:
        if service.first_tcp_port is None and "probe" not in doc.data["services"][service.index]:
            return  # nothing to check by default: no probe (the chart renders none)
        if service.first_tcp_port is None:
            yield error_at(
                doc,
                service_path(service, "probe"),
                "the probe checks the first TCP port of `ports`, and the service declares none",
            )
        return
    declared = {port.name for port in service.ports} | {port.port for port in service.ports}
    if probe.port not in declared:
        yield error_at(
            doc,
            service_path(service, "probe", probe.type, "port"),
            f"{probe.port!r} is not one of the service's ports"
            if isinstance(probe.port, str)
            else f"port {probe.port} is not one of the service's ports",
        )


def _run_as_root(dc: Datacenter, service: AppService, doc: Document) -> Iterator[Problem]:
    """Root needs Pod Security baseline. A namespace of its own is labelled so; one shared with
    a service whose pods meet restricted would lose that protection, which the build refuses."""
    if service.run.user != 0:
        return
    path = service_path(service, "run", "user")
    neighbours = [
        other
        for other in dc.services
        if other.namespace == service.namespace
        and other is not service
        and kind_of(other).pod_security(other) == "restricted"
    ]
    if neighbours:
        names = ", ".join(f'"{other.name}"' for other in neighbours)
        yield error_at(
            doc,
            path,
            f"0 (root) breaks Pod Security level restricted of namespace "
            f'"{service.namespace}", which {names} keep: give "{service.name}" a namespace of '
            "its own (namespace:) or run it as another user",
        )
    else:
        yield warning_at(
            doc,
            path,
            f'0 (root): namespace "{service.namespace}" is labelled Pod Security baseline, '
            "not restricted; prefer an image that runs as another user",
            "root-in-baseline-namespace",
        )


# Values ---------------------------------------------------------------------------------------


def chart_source(dc: Datacenter, service: AppService) -> ChartSource:
    """The values of the app blueprint (user data only ever lands in these values)."""
    image = service.app_image
    name = objects_name(service.name, BLUEPRINT)
    scaled = service.workload in ("deployment", "statefulset") and service.peak_replicas > 1
    pinned = _pinned_node(dc, service)
    first = service.first_tcp_port
    values: dict[str, Any] = {
        "fullnameOverride": name,
        "replicaCount": service.replicas,
        "workload": {
            "kind": WORKLOAD_KINDS[service.workload],
            "schedule": service.schedule or "",
        },
        "image": {"repository": image.repository, "tag": image.tag, "digest": image.digest or ""},
        "podAnnotations": string_map(service.annotations),
        "command": list(service.command),
        "args": list(service.args),
        "ports": [
            {"name": port.name, "port": port.port, "protocol": port.protocol}
            for port in service.ports
        ],
        "env": string_map(service.env),
        "secretEnv": [
            {"name": entry.name, "secret": entry.secret, "key": entry.key}
            for entry in service.secret_env
        ],
        "files": [{"path": entry.path, "content": entry.content} for entry in service.files],
        "volumes": [_volume_values(dc, service, volume) for volume in service.volumes],
        "writablePaths": list(service.run.writable_paths),
        "podSecurityContext": _pod_security_context(service.run),
        "securityContext": _security_context(service.run),
        "probe": _probe_values(service),
        "service": {
            "port": service.service_port,
            "targetPort": first.name if first else "",
        },
        **route_values(dc, service),
        "resources": resource_block(service.resources),
        "autoscaling": autoscaling_values(service),
        "podDisruptionBudget": {"enabled": scaled},
        "topologySpread": {"enabled": scaled},
        "affinity": node_affinity(service.architectures, pinned),
    }
    return ChartSource(
        blueprint=BLUEPRINT,
        values=values,
        app_version=image.tag,
        claims=_claims(dc, service, name),
    )


def _pinned_node(dc: Datacenter, service: AppService) -> str | None:
    for volume in main_volumes(service):
        storage = dc.storage_class(volume.storage_class)
        if storage is not None and storage.local is not None:
            return storage.local.node
    return None


def _volume_values(dc: Datacenter, service: AppService, volume: AppVolume) -> dict[str, Any]:
    if volume.claim is None:
        return {"name": volume.name, "mountPath": volume.mount_path, "emptyDir": True}
    storage = dc.storage_class(volume.claim.storage_class)
    return {
        "name": volume.name,
        "mountPath": volume.mount_path,
        "claim": {
            "storageClassName": storage.name if storage else "",
            "size": volume.claim.size,
            "accessMode": _access_mode(service, storage is not None and storage.read_write_many),
        },
    }


def _access_mode(service: AppService, read_write_many: bool) -> AccessMode:
    shared = service.workload == "daemonset" or service.pods_per_claim > 1
    return "ReadWriteMany" if shared and read_write_many else "ReadWriteOnce"


def _claims(dc: Datacenter, service: AppService, name: str) -> tuple[Claim, ...]:
    """The claims the chart makes, as the storage chart must know them (local volumes)."""
    claims: list[Claim] = []
    for volume in service.volumes:
        if volume.claim is None:
            continue
        storage = dc.storage_class(volume.claim.storage_class)
        if storage is None:
            continue
        access = _access_mode(service, storage.read_write_many)
        if service.workload == "statefulset":
            pods = statefulset_name(name)
            names = [f"{volume.name}-{pods}-{ordinal}" for ordinal in range(service.peak_replicas)]
        else:
            names = [f"{name}-{volume.name}"]
        claims.extend(
            Claim(service.namespace, claim, storage.name, volume.claim.size, access)
            for claim in names
        )
    return tuple(claims)


def statefulset_name(full_name: str) -> str:
    """The chart's `app.statefulsetName`: its pods' controller-revision-hash label
    (`<name>-<10-character hash>`) must fit in 63 characters, so the name keeps 52."""
    return full_name[:_STATEFULSET_NAME_LENGTH].rstrip("-")


def _pod_security_context(run: Run) -> dict[str, Any]:
    return {
        "runAsNonRoot": run.user != 0,
        "runAsUser": run.user,
        "runAsGroup": run.group,
        "fsGroup": run.group,
    }


def _security_context(run: Run) -> dict[str, Any]:
    return {
        "readOnlyRootFilesystem": run.read_only_root,
        "runAsNonRoot": run.user != 0,
        "runAsUser": run.user,
        "runAsGroup": run.group,
    }


def _probe_values(service: AppService) -> dict[str, Any]:
    probe = service.probe
    first = service.first_tcp_port
    if service.workload == "cronjob" or (probe.type != "exec" and probe.port is None and not first):
        return {"type": "none"}
    port = probe.port if probe.port is not None else (first.name if first else "")
    return {
        "type": probe.type,
        "port": port if probe.type in ("http", "tcp") else "",
        "path": probe.path,
        "command": list(probe.command),
    }


KIND = Kind(
    name="app",
    schema=schema_fragment("app"),
    images=(),
    default_resources=DEFAULT_RESOURCES,
    build=build,
    chart_source=chart_source,
    pod_security=pod_security,
    rules=rules,
    workload_requests=workload_requests,
    placement=placement,
    describe=describe,
    volumes=volumes,
    main_volumes=main_volumes,
)
