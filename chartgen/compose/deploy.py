"""Where and how much a service runs: replicas or a DaemonSet (`deploy`, `scale`), the
architectures (`platform`, else the nodes'), and the resources (`deploy.resources`,
`cpus`, `mem_*`)."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from chartgen.compose.context import PathPart, _Builder, _Context
from chartgen.compose.ignored_keys import _SWARM
from chartgen.compose.parsing import docker_cpu, docker_memory

ARCHITECTURES = ("amd64", "arm64", "arm")
_PLATFORMS = {
    "linux/amd64": "amd64",
    "linux/x86_64": "amd64",
    "linux/arm64": "arm64",
    "linux/arm64/v8": "arm64",
    "linux/aarch64": "arm64",
    "linux/arm": "arm",
    "linux/arm/v7": "arm",
    "linux/arm/v6": "arm",
}


class _Deploy(_Context):
    """`deploy`, `scale`, `platform` and the resources."""

    def replicas(self, service: CommentedMap, here: list[PathPart], built: _Builder) -> None:
        deploy = self.mapping(service.get("deploy"), [*here, "deploy"])
        replicas: Any = None
        where: list[PathPart] | None = None
        if deploy is not None:
            for key in deploy:
                if str(key) not in ("replicas", "mode", "resources"):
                    self.warn([*here, "deploy", str(key)], _SWARM, key=True)
            mode = deploy.get("mode", "replicated")
            if mode == "global":
                built.spec["workload"] = "daemonset"
                built.origins[("workload",)] = self.origin([*here, "deploy", "mode"])
                if "replicas" in deploy:
                    self.warn([*here, "deploy", "replicas"], "ignored: mode is global", key=True)
                return
            if mode != "replicated":
                self.warn(
                    [*here, "deploy", "mode"],
                    f"mode `{mode}` is not imported: the service runs as a Deployment",
                )
            if "replicas" in deploy:
                replicas, where = deploy["replicas"], [*here, "deploy", "replicas"]
        if replicas is None and "scale" in service:
            replicas, where = service["scale"], [*here, "scale"]
        if where is None:
            built.spec["replicas"] = 1
            return
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            self.error(where, "must be a whole number, 0 or more")
            return
        built.spec["replicas"] = int(replicas)
        built.origins[("replicas",)] = self.origin(where)

    def architectures(self, service: CommentedMap, here: list[PathPart], built: _Builder) -> None:
        if "platform" in service:
            where = [*here, "platform"]
            platform = self.text(service, "platform", where)
            if platform is None:
                return
            arch = _PLATFORMS.get(platform.strip().lower())
            if arch is None:
                self.error(
                    where,
                    f"platform `{platform}`: chartgen runs linux/amd64, linux/arm64 and "
                    "linux/arm/v7 images",
                )
                return
            built.spec["architectures"] = [arch]
            built.origins[("architectures",)] = self.origin(where)
            return
        schedulable = [
            str(node.get("arch"))
            for node in self.nodes
            if node.get("schedulable", node.get("role") == "worker") is True
        ]
        architectures = [arch for arch in ARCHITECTURES if arch in schedulable]
        if not architectures:
            self.error(
                here,
                "no `platform`, and the datacenter has no schedulable node to take the "
                "architectures from: give the service a `platform`",
                key=True,
            )
            return
        built.spec["architectures"] = architectures
        self.warn(
            here,
            f"architectures assumed from the nodes ({', '.join(architectures)}): check the image "
            "supports them",
            key=True,
        )

    def resources(self, service: CommentedMap, here: list[PathPart], built: _Builder) -> None:
        found: dict[str, tuple[Any, list[PathPart], Any, PathPart]] = {}
        deploy = service.get("deploy")
        resources = deploy.get("resources") if isinstance(deploy, CommentedMap) else None
        base: list[PathPart] = [*here, "deploy", "resources"]
        if isinstance(resources, CommentedMap):
            for key in resources:
                if str(key) not in ("limits", "reservations"):
                    self.warn([*base, str(key)], "not imported", key=True)
            for section in ("reservations", "limits"):
                block = resources.get(section)
                if not isinstance(block, CommentedMap):
                    continue
                for key in block:
                    item: list[PathPart] = [*base, section, str(key)]
                    if str(key) in ("cpus", "memory"):
                        if str(key) in found:
                            self.warn(
                                item,
                                "not imported: chartgen requests the reservation and derives "
                                "the limits",
                                key=True,
                            )
                        else:
                            found[str(key)] = (block[key], item, block, key)
                    else:
                        self.warn(item, "not imported", key=True)
        for compose_key, kind in (
            ("cpus", "cpus"),
            ("mem_reservation", "memory"),
            ("mem_limit", "memory"),
        ):
            if compose_key in service:
                item = [*here, compose_key]
                if kind in found:
                    self.warn(item, "not imported: deploy.resources says it", key=True)
                else:
                    found[kind] = (service[compose_key], item, service, compose_key)
        result: dict[str, str] = {}
        if "cpus" in found:
            _value, item, container, part = found["cpus"]
            text = self.text(container, part, item)
            cpu = docker_cpu(text) if text is not None else None
            if cpu is None:
                self.error(item, "must be a number of CPUs, such as 0.5")
            else:
                result["cpu"] = cpu
        if "memory" in found:
            _value, item, container, part = found["memory"]
            text = self.text(container, part, item)
            memory = docker_memory(text) if text is not None else None
            if memory is None:
                self.error(item, "must be a size, such as 512M or 1g")
            else:
                result["memory"] = memory
        if result:
            built.spec["resources"] = result
            first = found.get("cpus") or found["memory"]
            built.origins[("resources",)] = self.origin(first[1])
