"""The Compose file as `app` services: the file as a whole (top-level keys, `.env`, the
project's namespace) and each service, its steps taken by one class per concern."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from chartgen.compose.context import Origin, PathPart, Reader, _Builder
from chartgen.compose.deploy import _Deploy
from chartgen.compose.env import _Environment
from chartgen.compose.files import _Files
from chartgen.compose.ignored_keys import _HANDLED, _NO_MEANING, _TOP_LEVEL, _TOP_NO_MEANING
from chartgen.compose.image import _Image
from chartgen.compose.interpolate import parse_dotenv
from chartgen.compose.parsing import decode, dns_label, split_assignment
from chartgen.compose.ports import _Ports
from chartgen.compose.probe import _Probe
from chartgen.compose.run import _Run
from chartgen.compose.volumes import _Volumes
from chartgen.loader import load_text
from chartgen.problems import Problem, Severity

_SERVICE_NAME_MAX = 53
_NAMESPACE_MAX = 63


@dataclass(frozen=True)
class ImportedService:
    """One Compose service as an `app` service: its datacenter entry and where each part of
    it comes from (a path inside the entry -> a Compose position)."""

    name: str
    compose_name: str
    spec: dict[str, Any]
    origins: Mapping[tuple[PathPart, ...], Origin]


@dataclass(frozen=True)
class Conversion:
    services: tuple[ImportedService, ...]
    problems: tuple[Problem, ...]
    namespace: str | None


def convert_compose(
    text: str,
    source: str,
    *,
    nodes: Sequence[Mapping[str, Any]],
    storage: Sequence[Mapping[str, Any]] = (),
    existing: Collection[str] = (),
    datacenter_source: str = "datacenter.yaml",
    project_dir: str,
    read: Reader,
) -> Conversion:
    """The Compose file's services as `app` services, and every problem found on the way."""
    loaded = load_text(text, source)
    if loaded.document is None:
        return Conversion((), tuple(_compose_load_problem(p) for p in loaded.problems), None)
    converter = _Compose(
        loaded.document,
        _scalar_texts(text),
        nodes=nodes,
        storage=storage,
        existing=existing,
        datacenter_source=datacenter_source,
        project_dir=project_dir,
        read=read,
    )
    services = converter.convert()
    return Conversion(tuple(services), tuple(converter.problems), converter.namespace)


def _compose_load_problem(problem: Problem) -> Problem:
    """The loader speaks of datacenter documents; say the same of a Compose file."""
    if problem.message.startswith("file is empty"):
        return Problem(1, 1, "", "file is empty: expected a Compose file", file=problem.file)
    if problem.message.startswith("top level must be a mapping"):
        message = "top level must be a mapping (services, volumes, ...)"
        return Problem(problem.line, problem.column, "", message, file=problem.file)
    return problem


def _scalar_texts(text: str) -> dict[tuple[int, int], str]:
    """The text, as written, of each plain scalar by its (0-based) position: `1.10` stays
    "1.10" and `0123` "0123" where the YAML reader would make numbers of them."""
    texts: dict[tuple[int, int], str] = {}
    try:
        root = YAML(typ="rt", pure=True).compose(text)
    except YAMLError:
        return texts
    seen: set[int] = set()
    stack: list[Node] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if not node.style:
                texts[(node.start_mark.line, node.start_mark.column)] = str(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return texts


class _Compose(_Deploy, _Image, _Ports, _Environment, _Volumes, _Files, _Probe, _Run):
    """One conversion: the file as a whole, and each service through the steps of the
    classes it is made of."""

    # the file

    def convert(self) -> list[ImportedService]:
        self.variables = self.read_dotenv()
        for key in self.tree:
            name = str(key)
            if name in _TOP_LEVEL or name.startswith("x-"):
                continue
            message = _TOP_NO_MEANING.get(name, "not a Compose key: ignored")
            self.warn([name], message, key=True)
        self.namespace = self.project_namespace()
        services = self.mapping(self.tree.get("services"), ["services"])
        if services is None:
            self.error(["services"] if "services" in self.tree else [], "no services to import")
            return []
        volume_users = self.volume_users(services)
        names: dict[str, str] = {}
        imported = []
        for key in services:
            built = self.service(str(key), services[key], names, volume_users)
            if built is not None:
                imported.append(built)
        return imported

    def read_dotenv(self) -> dict[str, str]:
        """The `.env` beside the Compose file, which Compose reads for interpolation."""
        try:
            raw = self.read(".env")
        except OSError:
            return {}
        display = self.beside(".env")
        text = decode(raw, display)
        if isinstance(text, Problem):
            self.problems.append(replace(text, severity=Severity.WARNING))
            return {}
        entries, notes = parse_dotenv(text)
        for line, column, message in notes:
            self.problems.append(Problem(line, column, "", message, Severity.WARNING, display))
        return {name: value for name, value, _line in entries if value is not None}

    def project_namespace(self) -> str | None:
        if "name" in self.tree:
            raw = self.text(self.tree, "name", ["name"])
            if raw is None:
                if self.tree["name"] is None:
                    self.error(["name"], "must be a string")
                return None
            where: list[PathPart] = ["name"]
            said = f"the project name `{raw}`"
        else:
            raw = self.project_dir
            where = []
            said = f"the project name `{raw}` (the Compose file's folder)"
        namespace = dns_label(raw, _NAMESPACE_MAX)
        if namespace is None:
            self.error(where, f"{said} cannot be made a namespace name: give a top-level `name`")
            return None
        if namespace != raw:
            self.warn(where, f"{said} is not a DNS label: the namespace is `{namespace}`")
        return namespace

    # one service

    def service(
        self,
        compose_name: str,
        service: Any,
        names: dict[str, str],
        volume_users: dict[str, list[str]],
    ) -> ImportedService | None:
        here: list[PathPart] = ["services", compose_name]
        if not isinstance(service, CommentedMap):
            self.error(here, "must be a mapping (image, ports, ...)", key=True)
            return None
        name = self.service_name(compose_name, names)
        for key in service:
            key_name = str(key)
            if key_name in _HANDLED or key_name.startswith("x-"):
                continue
            message = _NO_MEANING.get(key_name, "not a Compose key: ignored")
            self.warn([*here, key_name], message.format(name=name or compose_name), key=True)
        built = _Builder()
        built.origins[()] = self.origin(here, key=True)
        spec = built.spec
        if name is not None:
            spec["name"] = name
        spec["type"] = "app"
        if self.namespace is not None:
            spec["namespace"] = self.namespace
        self.replicas(service, here, built)
        self.architectures(service, here, built)
        image = self.image(service, here, built)
        self.commands(service, here, built)
        self.ports(service, here, built, image)
        self.environment(service, here, built)
        self.volumes(service, here, built, volume_users)
        self.files(service, here, built)
        self.probe(service, here, built)
        self.run(service, here, built)
        self.resources(service, here, built)
        self.annotations(service, here, built)
        self.secrets(service, here)
        self.networks(service, here)
        if name is None or image is None:
            return None
        return ImportedService(name, compose_name, spec, built.origins)

    def service_name(self, compose_name: str, names: dict[str, str]) -> str | None:
        here: list[PathPart] = ["services", compose_name]
        name = dns_label(compose_name, _SERVICE_NAME_MAX)
        if name is None or len(compose_name) > _SERVICE_NAME_MAX:
            self.error(
                here,
                f"`{compose_name}` cannot be made a service name (a DNS label of at most "
                f"{_SERVICE_NAME_MAX} characters): rename the service",
                key=True,
            )
            return None
        if name != compose_name:
            self.warn(
                here,
                f"not a DNS label: imported as `{name}`; services that reach it as "
                f"`{compose_name}` must use `{name}`",
                key=True,
            )
        if name in self.existing:
            self.error(
                here,
                f"a service named `{name}` exists already in {self.datacenter_source}",
                key=True,
            )
            return None
        if name in names:
            self.error(
                here,
                f"`{names[name]}` and `{compose_name}` would both be imported as `{name}`: "
                "rename one",
                key=True,
            )
            return None
        names[name] = compose_name
        return name

    def annotations(self, service: CommentedMap, here: list[PathPart], built: _Builder) -> None:
        if "annotations" not in service:
            return
        where = [*here, "annotations"]
        value = service["annotations"]
        result: dict[str, str] = {}
        if isinstance(value, CommentedMap):
            for key in value:
                text = self.text(value, key, [*where, str(key)])
                result[str(key)] = text if text is not None else ""
        elif isinstance(value, CommentedSeq):
            for index in range(len(value)):
                text = self.text(value, index, [*where, index])
                if text is not None:
                    key, assigned = split_assignment(text)
                    result[key] = assigned or ""
        else:
            self.error(where, "must be a list of KEY=VALUE or a mapping")
        if result:
            built.spec["annotations"] = result
            built.origins[("annotations",)] = self.origin(where, key=True)

    def secrets(self, service: CommentedMap, here: list[PathPart]) -> None:
        if "secrets" not in service:
            return
        namespace = self.namespace or "NAMESPACE"
        self.warn(
            [*here, "secrets"],
            "not imported, and nothing is mounted under /run/secrets: create each Secret in "
            f"the cluster, outside git (kubectl -n {namespace} create secret generic NAME "
            "--from-file=KEY=PATH), and pass its keys as environment with secretEnv",
            key=True,
        )

    def networks(self, service: CommentedMap, here: list[PathPart]) -> None:
        if service.get("network_mode") is not None:
            mode = str(service["network_mode"])
            self.warn(
                [*here, "network_mode"],
                f"`{mode}` is not used: the pod has its own network, and other services reach "
                "it through its ports by service name",
                key=True,
            )
        networks = service.get("networks")
        if isinstance(networks, CommentedMap):
            for key in networks:
                entry = networks[key]
                if isinstance(entry, CommentedMap) and (
                    {"aliases", "ipv4_address", "ipv6_address"} & {str(k) for k in entry}
                ):
                    self.warn(
                        [*here, "networks", str(key)],
                        "aliases and fixed addresses are not imported: other services reach "
                        f"this one as `{here[1]}`",
                        key=True,
                    )
