"""Property tests: schema-generated documents build, mutated ones fail cleanly.

Documents are drawn from the JSON Schema itself (hypothesis-jsonschema), one part of the schema
at a time (drawing the whole document at once takes seconds per example), then repaired until
the cross-field rules hold. Mutations of the valid cases must end in exit 1 with problems that
point inside the file, never in a traceback.

Budget: the "ci" profile (default, `make test`) keeps this module to a few seconds per test
and draws the same examples on every run (derandomized), so that a commit's test result does
not depend on luck; `make fuzz` selects the "fuzz" profile (CHARTGEN_FUZZ_PROFILE=fuzz), which
draws new examples every run, to look for what the fixed ones miss.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from chartgen.cli import main
from chartgen.kinds.nextcloud import OWNED_CONFIG_KEYS
from chartgen.loader import MAX_DEPTH, MAX_INTEGER, load_file, load_text
from chartgen.model import DEFAULT_POD_SUBNETS, DEFAULT_SERVICE_SUBNET, Resources
from chartgen.quantity import parse_quantity
from chartgen.render import render
from chartgen.rules import kubelet_may_set
from chartgen.schema import schema_text
from chartgen.validate import validate_document
from tests.conftest import case_dirs
from tests.test_generated import HELM

settings.register_profile(
    "ci",
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz", parent=settings.get_profile("ci"), max_examples=2000, derandomize=False
)
# Many examples, failures reported unshrunk: a quick look while fixing what the fuzzer found.
settings.register_profile(
    "explore",
    parent=settings.get_profile("fuzz"),
    phases=[Phase.explicit, Phase.generate],
)
PROFILE = os.environ.get("CHARTGEN_FUZZ_PROFILE", "ci")
FUZZ = settings.get_profile(PROFILE)
# A schema document takes a few tenths of a second to draw and build; helm lint a few seconds.
BUILT = settings(FUZZ, max_examples=40) if PROFILE == "ci" else FUZZ
LINTED = settings(FUZZ, max_examples=4 if PROFILE == "ci" else 100)

SCHEMA: dict[str, Any] = json.loads(schema_text())
Json = Any
Path_ = tuple[str | int, ...]
INT32 = 2**31 - 1


# ---------------------------------------------------------------- documents from the schema


def _from_part(part: dict[str, Any]) -> st.SearchStrategy[Json]:
    return from_schema({**part, "$defs": SCHEMA["$defs"]})


def _service_of(kind: str) -> st.SearchStrategy[Json]:
    # The schema's if/then on `type`, resolved for one type.
    return _from_part(
        {
            "allOf": [
                {"$ref": f"#/$defs/{kind}Service"},
                {"properties": {"type": {"const": kind}}, "required": ["name", "type"]},
            ]
        }
    )


_PROPERTIES = SCHEMA["properties"]
schema_documents = st.fixed_dictionaries(
    {
        "apiVersion": st.just(_PROPERTIES["apiVersion"]["const"]),
        "kind": st.just(_PROPERTIES["kind"]["const"]),
        "metadata": _from_part(_PROPERTIES["metadata"]),
        "cluster": _from_part(_PROPERTIES["cluster"]),
        "nodes": st.lists(_from_part(_PROPERTIES["nodes"]["items"]), min_size=1, max_size=4),
        "services": st.lists(
            st.one_of(_service_of("nginx"), _service_of("nextcloud"), _service_of("app")),
            min_size=1,
            max_size=3,
        ),
    },
    optional={
        "storage": st.lists(_from_part(_PROPERTIES["storage"]["items"]), max_size=3),
        "platform": _from_part(_PROPERTIES["platform"]),
    },
)


def repair(raw: Json) -> Json:
    """`raw` (schema-valid) changed as little as needed to satisfy every cross-field rule."""
    doc = _within_limits(copy.deepcopy(raw))
    nodes: list[Json] = doc["nodes"]
    services: list[Json] = doc["services"]
    storage: list[Json] = doc.get("storage", [])
    for entries, prefix in ((nodes, "node"), (storage, "class"), (services, "svc")):
        _unique_names(entries, prefix)
    nodes[0]["role"] = "control-plane"  # rule 1
    runner = _amd64_pod_node(nodes)  # rule 5: every image runs on amd64
    for node in nodes:  # rule 7
        if "labels" in node:
            node["labels"] = {k: v for k, v in node["labels"].items() if kubelet_may_set(k)}
    _disjoint_subnets(doc["cluster"], nodes)  # rule 4
    _one_default(storage)  # rule 8
    for entry in storage:  # rule 3
        if "local" in entry:
            entry["local"]["node"] = runner["name"]
    pod_arches = {node["arch"] for node in nodes if _accepts_pods(node)}
    for service in services:
        _repair_service(service, pod_arches, storage)
        if service["type"] == "app":
            _repair_app(service, pod_arches, storage, services)
        elif service["type"] == "nginx" and "site" in service:
            _repair_site(service["site"])
    _positive_quantities(doc)  # rule 15
    for service in services:
        if service["type"] == "nextcloud":
            _php_memory_fits(service)
    if storage:
        doc["storage"] = storage
    _drop_small_capacities(nodes, services)  # rule 9
    _unique_addresses(nodes)  # rule 13
    _repair_platform(doc)  # rules 10-14
    return doc


def _unique_addresses(nodes: list[Json]) -> None:
    import ipaddress

    taken = {node["address"] for node in nodes}
    seen: set[str] = set()
    for node in nodes:
        if node["address"] in seen:
            candidate = ipaddress.IPv4Address(node["address"])
            while str(candidate) in taken:
                candidate = ipaddress.IPv4Address((int(candidate) + 1) % 2**32)
            node["address"] = str(candidate)
            taken.add(node["address"])
        seen.add(node["address"])


_POOL = "198.18.0.100-198.18.0.120"


def _repair_platform(doc: Json) -> None:
    """Rules 10-14, and the platform's release names and namespaces left to it."""
    import ipaddress

    from chartgen.model_builder import build_datacenter
    from chartgen.platform import platform_plan

    platform: Json | None = doc.get("platform")
    services: list[Json] = doc["services"]
    routes: set[tuple[str, str]] = set()
    for service in services:
        expose = service.get("expose")
        if service["type"] == "nextcloud":
            while (service["host"], "/") in routes:  # rule 12
                service["host"] = f"x{service['host']}"[-253:].lstrip(".-")
            routes.add((service["host"], "/"))
            if expose is not None:  # a Nextcloud is routed at its host, at the root
                expose.pop("host", None)
                expose.pop("path", None)
                if not expose:
                    del service["expose"]
        elif expose is not None and "host" in expose:  # rule 12
            path = expose.get("path", "/")
            while (expose["host"], path) in routes:
                path = path.rstrip("/") + "/x"
            if path != expose.get("path", "/"):
                expose["path"] = path
            routes.add((expose["host"], path))
        if platform is None or "certificates" not in platform:  # rule 14
            service.get("expose", {}).pop("tls", None)
            if service.get("expose") == {}:
                service["expose"] = {"port": 80}
    if platform is None:
        return
    if any("autoscaling" in service for service in services):  # rule 10
        platform.pop("metrics", None)
    if "loadBalancer" in platform:  # rule 13: a pool clear of the nodes and the subnets
        cluster = doc["cluster"]
        pool = ipaddress.IPv4Network("198.18.0.96/27")
        subnets = [
            cluster.get("podSubnet", DEFAULT_POD_SUBNETS[cluster.get("cni", "flannel")]),
            cluster.get("serviceSubnet", DEFAULT_SERVICE_SUBNET),
        ]
        clear = not any(ipaddress.IPv4Address(n["address"]) in pool for n in doc["nodes"])
        clear = clear and not any(
            pool.overlaps(ipaddress.IPv4Network(s, strict=False)) for s in subnets
        )
        if clear:
            platform["loadBalancer"] = {"addresses": [_POOL]}
        else:
            del platform["loadBalancer"]
    gateway = platform.get("gateway")
    if gateway is not None and "address" in gateway:
        if "loadBalancer" in platform:
            gateway["address"] = "198.18.0.110"
        elif gateway.get("controller") != "external":
            del gateway["address"]
    dc = build_datacenter(doc, "datacenter.yaml")
    plan = platform_plan(dc)
    for service in services:  # the platform's names are its own
        if service["name"] in plan.names:
            service["name"] = f"svc-{service['name']}"[:53].rstrip("-")
        if service.get("namespace", service["name"]) in plan.namespaces:
            service["namespace"] = f"ns-{len(service['name'])}"


def _within_limits(value: Json) -> Json:
    """Free text without lone surrogates (no UTF-8 file can hold them), integers that fit
    Kubernetes' int32 fields (the schema leaves them unbounded; the loader stops at 64 bits)."""
    if isinstance(value, str):
        # Nor DEL and the C1 controls, which the loader refuses (Helm's writer drops them).
        return "".join(
            c for c in value if not "\ud800" <= c <= "\udfff" and not "\x7f" <= c <= "\x9f"
        )
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return max(-INT32, min(value, INT32))
    if isinstance(value, list):
        return [_within_limits(item) for item in value]
    if isinstance(value, dict):
        return {_within_limits(k): _within_limits(v) for k, v in value.items()}
    return value


def _unique_names(entries: list[Json], prefix: str) -> None:
    taken: set[str] = set()
    for index, entry in enumerate(entries):
        if entry["name"] in taken:
            candidate = f"{prefix}-{index}"
            while candidate in taken or candidate in (e["name"] for e in entries):
                candidate += "x"
            entry["name"] = candidate
        taken.add(entry["name"])


def _accepts_pods(node: Json) -> bool:
    schedulable = node.get("schedulable", node["role"] == "worker")
    blocking = any(t["effect"] in ("NoSchedule", "NoExecute") for t in node.get("taints", []))
    return bool(schedulable) and not blocking


def _amd64_pod_node(nodes: list[Json]) -> Json:
    for node in nodes:
        if node["arch"] == "amd64" and _accepts_pods(node):
            return node
    runner = nodes[-1]
    runner.update(arch="amd64", schedulable=True)
    runner["taints"] = [t for t in runner.get("taints", []) if t["effect"] == "PreferNoSchedule"]
    return runner


_SPARE_ADDRESSES = ("192.0.2.10", "198.51.100.10", "203.0.113.10", "172.31.0.10")


def _disjoint_subnets(cluster: Json, nodes: list[Json]) -> None:
    import ipaddress

    def networks() -> list[ipaddress.IPv4Network]:
        pods = cluster.get("podSubnet", DEFAULT_POD_SUBNETS[cluster.get("cni", "flannel")])
        services = cluster.get("serviceSubnet", DEFAULT_SERVICE_SUBNET)
        return [ipaddress.IPv4Network(net, strict=False) for net in (pods, services)]

    pods, services = networks()
    free = [
        a
        for a in _SPARE_ADDRESSES
        if not any(ipaddress.IPv4Address(a) in n for n in (pods, services))
    ]
    if pods.overlaps(services) or not free:
        cluster.update(podSubnet="10.244.0.0/16", serviceSubnet="10.96.0.0/12")
        pods, services = networks()
        free = list(_SPARE_ADDRESSES)
    for node in nodes:
        if any(ipaddress.IPv4Address(node["address"]) in n for n in (pods, services)):
            node["address"] = free[0]


def _one_default(storage: list[Json]) -> None:
    seen = False
    for entry in storage:
        if entry.get("default"):
            entry["default"] = not seen
            seen = True


def _class_named(storage: list[Json], kind: str) -> str:
    for entry in storage:
        if entry["type"] == kind:
            return str(entry["name"])
    names = {entry["name"] for entry in storage}
    name = next(
        f"fuzz-{kind}-{i}" for i in range(len(storage) + 1) if f"fuzz-{kind}-{i}" not in names
    )
    entry = {"name": name, "type": kind}
    entry[kind] = {"server": "192.0.2.1", "path": "/export"} if kind == "nfs" else {}
    storage.append(entry)
    return name


def _repair_service(service: Json, pod_arches: set[str], storage: list[Json]) -> None:
    if "architectures" in service:  # rule 5: only architectures that can run it
        kept = [a for a in service["architectures"] if a in pod_arches]
        if service["type"] == "nextcloud" and "amd64" not in kept:
            kept.append("amd64")  # its local volumes live on the amd64 pod node
        if kept:
            service["architectures"] = kept
        elif service["type"] == "app":
            service["architectures"] = ["amd64"]  # required for an app; the runner is amd64
        else:
            del service["architectures"]
    if "autoscaling" in service:  # autoscaling bounds
        service["replicas"] = max(1, service.get("replicas", 1))
        scaling = service["autoscaling"]
        scaling["maxReplicas"] = max(scaling["maxReplicas"], service["replicas"] + 1)
    if service["type"] != "nextcloud":
        return
    peak = (
        service["autoscaling"]["maxReplicas"]
        if "autoscaling" in service
        else service.get("replicas", 1)
    )
    names = {entry["name"] for entry in storage}
    backup = service["database"].get("backup")
    backup_volumes = [backup["storage"]] if backup is not None else []
    for volume in (service["storage"], service["database"]["storage"], *backup_volumes):  # rule 3
        if volume.get("class") not in names:
            volume["class"] = storage[0]["name"] if storage else _class_named(storage, "nfs")
            names = {entry["name"] for entry in storage}
    backup = service["database"].get("backup")
    claim = backup.get("storage") if isinstance(backup, dict) else None
    if claim is not None and claim.get("class") not in names:  # its pg_dump claim, rule 3 too
        claim["class"] = _class_named(storage, "nfs")
    if peak > 1:  # rule 6
        service["storage"]["class"] = _class_named(storage, "nfs")
        service.pop("redis", None)
    for key in [key for key in service.get("config", {}) if key in OWNED_CONFIG_KEYS]:
        del service["config"][key]  # chartgen's own config.php keys are refused


def _positive_quantities(doc: Json) -> None:
    for node in doc["nodes"]:
        capacity = node.get("capacity")
        if capacity is not None:
            for key, fallback in (("cpu", "1"), ("memory", "1Gi")):
                if parse_quantity(str(capacity[key])) == 0:
                    capacity[key] = fallback
    for service in doc["services"]:
        database = service.get("database", {})
        volumes = [service.get("storage"), database.get("storage")]
        volumes += [database.get("backup", {}).get("storage")]
        volumes += [entry.get("storage") for entry in service.get("volumes", [])]
        backup = service.get("database", {}).get("backup")
        if isinstance(backup, dict):  # a Nextcloud's pg_dump claim (database.backup.storage)
            volumes.append(backup.get("storage"))
        for volume in volumes:
            if volume is not None and parse_quantity(str(volume["size"])) == 0:
                volume["size"] = "1Gi"


def _repair_site(site: Json) -> None:
    if "files" in site:  # distinct paths
        site["files"] = list({entry["path"]: entry for entry in site["files"]}.values())


def _repair_app(
    service: Json, pod_arches: set[str], storage: list[Json], services: list[Json]
) -> None:
    """The app rules: workload options, ports, probe, claims, mounts, names, root."""
    workload = service.get("workload", "deployment")
    if workload in ("daemonset", "cronjob"):
        service.pop("replicas", None)
        service.pop("autoscaling", None)
    if workload == "cronjob":
        service.pop("expose", None)
        service.pop("probe", None)
    else:
        service.pop("schedule", None)
    ports: list[Json] = []
    names: set[str] = set()
    numbers: set[tuple[int, str]] = set()
    for port in service.get("ports", []):
        key = (port["port"], port.get("protocol", "TCP"))
        if port["name"] not in names and key not in numbers:
            ports.append(port)
            names.add(port["name"])
            numbers.add(key)
    if "ports" in service:
        service["ports"] = ports
    tcp = [port for port in ports if port.get("protocol", "TCP") == "TCP"]
    if "expose" in service:
        if not tcp:
            del service["expose"]
        elif any(p["port"] == service["expose"].get("port") for p in tcp[1:]):
            service["expose"].pop("port")
            if not service["expose"]:
                del service["expose"]
    probe = service.get("probe", {})
    for check in ("http", "tcp"):
        if check in probe:
            declared = {p["name"] for p in ports} | {p["port"] for p in ports}
            if probe[check].get("port", None) not in declared and "port" in probe[check]:
                del probe[check]["port"]
            if "port" not in probe[check] and not tcp:
                del service["probe"]
    _repair_app_volumes(service, storage, workload)
    env = service.get("env", {})
    if "secretEnv" in service:
        service["secretEnv"] = list(
            {e["name"]: e for e in service["secretEnv"] if e["name"] not in env}.values()
        )
    run = service.get("run", {})
    if run.get("user") == 0:
        run["user"] = 1000  # root would need a namespace of its own


def _repair_app_volumes(service: Json, storage: list[Json], workload: str) -> None:
    peak = (
        service["autoscaling"]["maxReplicas"]
        if "autoscaling" in service
        else service.get("replicas", 1)
    )
    shared = workload == "daemonset" or (workload == "deployment" and peak > 1)
    names = {entry["name"] for entry in storage}
    kept: list[Json] = []
    mounts: set[str] = set()
    volume_names: set[str] = set()
    for volume in service.get("volumes", []):
        if "storage" in volume:
            volume.pop("emptyDir", None)
            claim = volume["storage"]
            if claim.get("class") not in names or shared:
                claim["class"] = _class_named(storage, "nfs")
                names = {entry["name"] for entry in storage}
            elif "amd64" not in service["architectures"] and any(
                e["name"] == claim["class"] and "local" in e for e in storage
            ):
                claim["class"] = _class_named(storage, "nfs")  # its node is the amd64 one
                names = {entry["name"] for entry in storage}
        else:
            volume["emptyDir"] = True
        where = volume["mountPath"].rstrip("/") or "/"
        if where not in mounts and volume["name"] not in volume_names:
            kept.append(volume)
            mounts.add(where)
            volume_names.add(volume["name"])
    if "volumes" in service:
        service["volumes"] = kept
    run = service.get("run", {})
    if "writablePaths" in run:
        run["writablePaths"] = [
            p for p in dict.fromkeys(run["writablePaths"]) if (p.rstrip("/") or "/") not in mounts
        ]
        mounts |= {p.rstrip("/") or "/" for p in run["writablePaths"]}
    elif "/tmp" in mounts:
        run["writablePaths"] = []
        service["run"] = run
    if "files" in service:
        files = []
        for entry in service["files"]:
            where = entry["path"].rstrip("/") or "/"
            if where not in mounts:
                files.append(entry)
                mounts.add(where)
        service["files"] = files


def _php_memory_fits(service: Json) -> None:
    """Nextcloud's PHP memory rule: memory_limit 128M at least, and the FPM container's memory
    holding MIN_FPM_CHILDREN workers with it."""
    from chartgen.kinds import kinds
    from chartgen.kinds.nextcloud import (
        MIN_FPM_CHILDREN,
        MIN_PHP_MEMORY_LIMIT,
        fpm_children,
        fpm_memory_needed,
        php_bytes,
    )
    from chartgen.quantity import format_memory

    php = service.get("php", {})
    if php_bytes(php.get("memoryLimit", "512M")) < MIN_PHP_MEMORY_LIMIT:
        php["memoryLimit"] = "512M"
    limit = php_bytes(php.get("memoryLimit", "512M"))
    resources = service.get("resources", {})
    memory = resources.get("memory", kinds()["nextcloud"].default_resources.memory)
    if fpm_children(parse_quantity(memory), limit) < MIN_FPM_CHILDREN:
        resources["memory"] = format_memory(Fraction(fpm_memory_needed(limit)))
        service["resources"] = resources


def _drop_small_capacities(nodes: list[Json], services: list[Json]) -> None:
    """Rule 9: a node that declares capacity offers enough for the largest pod."""
    from chartgen.kinds import kinds
    from chartgen.kinds.nextcloud import WEB_FRONT_RESOURCES

    cpu, memory = parse_quantity("0"), parse_quantity("0")
    for service in services:
        given_ = service.get("resources", {})
        default = kinds()[service["type"]].default_resources
        wanted = Resources(
            str(given_.get("cpu", default.cpu)), str(given_.get("memory", default.memory))
        )
        extra = WEB_FRONT_RESOURCES if service["type"] == "nextcloud" else Resources("0", "0")
        cpu = max(cpu, wanted.cpu_value + extra.cpu_value)
        memory = max(memory, wanted.memory_value + extra.memory_value)
    for node in nodes:
        capacity = node.get("capacity")
        if capacity is None:
            continue
        offered = Resources(str(capacity["cpu"]), str(capacity["memory"]))
        if offered.cpu_value < cpu or offered.memory_value < memory:
            del node["capacity"]


def dump_json(document: Json) -> str:
    """JSON, which is YAML too: every string survives, control characters included."""
    return json.dumps(document, indent=2) + "\n"


def dump(document: Json) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    yaml.width = 4096
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


@given(schema_documents)
@BUILT
def test_schema_documents_made_consistent_always_build(raw: Json) -> None:
    assert Draft202012Validator(SCHEMA).is_valid(raw)
    document = repair(raw)
    text = dump_json(document)
    loaded = load_text(text, "datacenter.yaml")
    assert loaded.document is not None, loaded.problems
    assert loaded.document.data == document  # the harness wrote what it meant to
    validation = validate_document(loaded.document)
    assert validation.datacenter is not None, [p.format() for p in validation.problems]
    files = render(validation.datacenter)
    names = {service["name"] for service in document["services"]}
    assert {PurePosixPath("charts", name, "Chart.yaml") for name in names} <= set(files)
    for path in files:
        assert not path.is_absolute() and ".." not in path.parts


@given(schema_documents)
@LINTED
def test_every_chart_of_a_schema_document_lints(raw: Json) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "datacenter.yaml"
        source.write_text(dump_json(repair(raw)), encoding="utf-8")
        out = Path(folder) / "generated"
        result = CliRunner().invoke(main, ["build", str(source), "-o", str(out)])
        assert result.exit_code == 0, result.output
        charts = sorted(str(path.parent) for path in out.glob("**/Chart.yaml"))
        done = subprocess.run(
            [HELM, "lint", "--strict", "--quiet", *charts], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------- mutations of valid cases


def _small_valid_cases() -> list[Json]:
    documents = []
    for case in case_dirs("valid"):
        source = case / "datacenter.yaml"
        if source.stat().st_size < 20_000:
            loaded = load_file(str(source))
            assert loaded.document is not None
            documents.append(loaded.document.data)
    return documents


VALID_DOCUMENTS = _small_valid_cases()


def _paths(value: Json, prefix: Path_ = ()) -> Iterator[tuple[Path_, Json]]:
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _set(document: Json, path: Path_, value: Json) -> Json:
    changed = copy.deepcopy(document)
    parent = changed
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return changed


def _delete(document: Json, path: Path_) -> Json:
    changed = copy.deepcopy(document)
    parent = changed
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return changed


Mutation = Callable[[st.DrawFn, Json], Json]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
)
mappings = st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=5), scalars)
containers = st.one_of(st.lists(scalars, max_size=3), mappings)


def wrong_kind(draw: st.DrawFn, document: Json) -> Json:
    """A scalar where a mapping or list belongs, or the other way round: never valid."""
    path, value = draw(st.sampled_from([p for p in _paths(document) if p[0]]))
    replacement: Json
    if isinstance(value, dict):
        replacement = draw(st.one_of(scalars, st.lists(scalars, max_size=3)))
    elif isinstance(value, list):
        replacement = draw(st.one_of(scalars, mappings))
    else:
        replacement = draw(containers)
    return _set(document, path, replacement)


def _required_at(path: Path_) -> list[str]:
    properties = SCHEMA["properties"]
    table: dict[Path_, Any] = {
        (): SCHEMA["required"],
        ("metadata",): properties["metadata"]["required"],
        ("cluster",): properties["cluster"]["required"],
    }
    if len(path) == 2 and isinstance(path[1], int):
        table[path] = {
            "nodes": properties["nodes"]["items"]["required"],
            "storage": properties["storage"]["items"]["required"],
            "services": SCHEMA["$defs"]["service"]["required"],
        }.get(str(path[0]), [])
    return list(table.get(path, []))


def removed_required_key(draw: st.DrawFn, document: Json) -> Json:
    candidates = [
        (*path, key)
        for path, value in _paths(document)
        if isinstance(value, dict)
        for key in _required_at(path)
        if key in value
    ]
    return _delete(document, draw(st.sampled_from(candidates)))


def bad_reference(draw: st.DrawFn, document: Json) -> Json:
    options: list[Callable[[], Json]] = []
    for index, entry in enumerate(document.get("storage", [])):
        if "local" in entry:
            path = ("storage", index, "local", "node")
            options.append(lambda p=path: _set(document, p, "no-such-node"))  # type: ignore[misc]
    for index, service in enumerate(document["services"]):
        if service["type"] == "nextcloud":
            path = ("services", index, "storage", "class")
            options.append(lambda p=path: _set(document, p, "no-such-class"))  # type: ignore[misc]
    for key in ("nodes", "services"):
        if len(document[key]) > 1:
            twin = ((key, 1, "name"), document[key][0]["name"])
            options.append(lambda t=twin: _set(document, t[0], t[1]))  # type: ignore[misc]
    workers = copy.deepcopy(document)
    for node in workers["nodes"]:
        node["role"] = "worker"
    options.append(lambda: workers)
    return draw(st.sampled_from(options))()


def unicode_in_a_name(draw: st.DrawFn, document: Json) -> Json:
    paths = [p for p, v in _paths(document) if p and p[-1] == "name" and isinstance(v, str)]
    path = draw(st.sampled_from(paths))
    character = draw(st.characters(min_codepoint=0x80, exclude_categories=["Cs"]))
    name = _get(document, path)
    at = draw(st.integers(0, len(name)))
    return _set(document, path, name[:at] + character + name[at:])


def _get(document: Json, path: Path_) -> Json:
    for part in path:
        document = document[part]
    return document


def huge_number(draw: st.DrawFn, document: Json) -> Json:
    paths = [
        p
        for p, v in _paths(document)
        if p and isinstance(v, (int, str)) and not isinstance(v, bool)
    ]
    magnitude = draw(
        st.one_of(st.integers(MAX_INTEGER + 1, 10**40), st.integers(20, 4000).map(lambda n: 10**n))
    )
    return _set(document, draw(st.sampled_from(paths)), magnitude * draw(st.sampled_from([1, -1])))


def deep_nesting(draw: st.DrawFn, document: Json) -> Json:
    value: Json = draw(scalars)
    for _ in range(draw(st.integers(MAX_DEPTH + 1, 3 * MAX_DEPTH))):
        value = [value] if draw(st.booleans()) else {"k": value}
    path, _old = draw(st.sampled_from([p for p in _paths(document) if p[0]]))
    return _set(document, path, value)


INVALIDATING: tuple[Mutation, ...] = (
    wrong_kind,
    removed_required_key,
    bad_reference,
    unicode_in_a_name,
    huge_number,
    deep_nesting,
)


@st.composite
def invalid_texts(draw: st.DrawFn) -> str:
    document = draw(st.sampled_from(VALID_DOCUMENTS))
    mutate = draw(st.sampled_from(INVALIDATING))
    return dump(mutate(draw, document))


@st.composite
def perhaps_valid_texts(draw: st.DrawFn) -> str:
    """Edits that may leave the document valid: any scalar anywhere, any key gone, raw text."""
    document = draw(st.sampled_from(VALID_DOCUMENTS))
    path, _value = draw(st.sampled_from([p for p in _paths(document) if p[0]]))
    kind = draw(st.sampled_from(["scalar", "delete", "text"]))
    if kind == "scalar":
        return dump(_set(document, path, draw(scalars)))
    if kind == "delete":
        return dump(_delete(document, path))
    text = dump(document)
    at = draw(st.integers(0, len(text)))
    inserted = draw(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8))
    return text[:at] + inserted + text[at + draw(st.integers(0, 8)) :]


# The line breaks ruamel counts lines by (its reader's marks), "\r" alone included.
_YAML_LINE_BREAK = re.compile("\r\n|[\r\n]")  # YAML 1.2: NEL, LS and PS do not break lines
_PROBLEM = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")


def _run_build(folder: Path, text: str) -> tuple[int, list[str]]:
    source = folder / "datacenter.yaml"
    source.write_bytes(text.encode("utf-8"))
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(folder / "generated")])
    assert isinstance(result.exception, SystemExit) or result.exception is None, (
        f"traceback for:\n{text}"
    )
    lines = result.stderr.rstrip("\n").split("\n") if result.stderr else []  # not at U+0085
    if result.exit_code == 1:
        assert lines
        assert not (folder / "generated").exists()
        text_lines = _YAML_LINE_BREAK.split(text)
        for line in lines:
            match = _PROBLEM.match(line)
            assert match is not None, line
            assert match["file"] == str(source), line
            number, column = int(match["line"]), int(match["column"])
            assert 1 <= number <= len(text_lines), line
            assert 1 <= column <= len(text_lines[number - 1]) + 1, line
        assert any(": warning: " not in line for line in lines)
    return result.exit_code, lines


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@given(text=invalid_texts())
@settings(FUZZ)
def test_invalidating_mutations_fail_with_positioned_problems(scratch: Path, text: str) -> None:
    exit_code, _lines = _run_build(scratch, text)
    assert exit_code == 1


@given(text=perhaps_valid_texts())
@settings(FUZZ)
def test_any_edit_ends_in_success_or_positioned_problems(scratch: Path, text: str) -> None:
    exit_code, _lines = _run_build(scratch, text)
    assert exit_code in (0, 1)
    if exit_code == 0:
        import shutil

        shutil.rmtree(scratch / "generated")


# ---------------------------------------------------------------- what the fuzzer found


def test_a_service_name_starting_with_a_digit_names_its_objects_with_a_letter(
    tmp_path: Path,
) -> None:
    # Found by test_every_chart_of_a_schema_document_lints: a Service named "0-nginx" fails
    # helm lint. Release names may start with a digit, Service names may not.
    document = copy.deepcopy(VALID_DOCUMENTS[0])
    document["services"][0]["name"] = "0web"
    exit_code, lines = _run_build(tmp_path, dump(document))
    assert exit_code == 0, lines
    values = (tmp_path / "generated" / "charts" / "0web" / "values.yaml").read_text()
    kind = document["services"][0]["type"]
    assert f"fullnameOverride: {kind}-0web\n" in values


_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


def test_large_cpu_and_memory_render_as_kubernetes_quantities() -> None:
    from fractions import Fraction

    from chartgen.quantity import format_cpu, format_memory

    assert _QUANTITY.match(format_cpu(Fraction(1_857_440_000_001, 1000)))
    assert _QUANTITY.match(format_memory(Fraction(12_345 * 2**40 + 1)))


def test_an_escaped_control_character_helm_drops_is_a_positioned_problem(scratch: Path) -> None:
    # Found by tests/test_chart_app.py: written as an escape, YAML reads DEL and the C1
    # controls, but Helm's toYaml drops or mangles them.
    for escape, code in (("\\x7f", "007F"), ("\\u0085", "0085"), ("\\x9f", "009F")):
        text = dump(VALID_DOCUMENTS[0]).replace("name: ", f'name: "a{escape}b" #', 1)
        exit_code, lines = _run_build(scratch, text)
        assert exit_code == 1
        line = next(n for n, row in enumerate(text.split("\n"), 1) if escape in row)
        assert len(lines) == 1 and lines[0].startswith(f"{scratch / 'datacenter.yaml'}:{line}:")
        assert lines[0].endswith(
            f"string holds U+{code}, a control character Helm's YAML writer drops "
            "(DEL and U+0080 to U+009F cannot be carried into a chart)"
        )


def test_a_control_character_is_a_positioned_problem(scratch: Path) -> None:
    # Found by test_any_edit_ends_in_success_or_positioned_problems: ruamel's ReaderError was
    # raised before the loader's error handling and escaped as a traceback.
    text = dump(VALID_DOCUMENTS[0]).replace("kind: Datacenter", "kind: Data\x07center")
    exit_code, lines = _run_build(scratch, text)
    assert exit_code == 1
    line = text.split("\n").index("kind: Data\x07center") + 1
    assert lines == [
        f"{scratch / 'datacenter.yaml'}:{line}:11: YAML: character U+0007 is not allowed"
    ]
