"""A Kubernetes API on loopback that the real helm can install into, for the install tests.

kmock's `KubernetesEmulator` keeps objects in memory and serves discovery from the resource
list it bundles; four gaps stop helm 4 against it, and this subclass closes them:

1. the core group's discovery says `groupVersion: "/v1"`; helm cannot map core kinds unless it
   is `"v1"`;
2. helm 4 applies server-side (PATCH `application/apply-patch+yaml`), which must create a
   missing object;
3. without `/openapi/v3` helm fetches the protobuf OpenAPI v2 document to validate fields; an
   OpenAPI v3 index whose group-version documents declare PATCH with a `fieldValidation`
   parameter makes helm leave validation to the server;
4. kmock reads `/api/v1/namespaces/NAME` as "everything in namespace NAME": Namespace objects
   (which `--create-namespace` makes) are served here instead.

Nothing runs controllers, so nothing becomes ready, except that a Job is reported complete as
soon as it exists (helm waits for its hook Jobs even without `--wait`), and that a
CustomResourceDefinition is Established (and NamesAccepted) as soon as it is created or applied:
its served versions join the discovery documents and the OpenAPI v3 stubs at once, so that helm
and kubectl can then map its kinds and create, read, patch and delete objects of them; deleting
it withdraws its kinds and their objects. helm 4 applies the CRDs of a chart's `crds/` folder
(server-side, like any object) on install only, before the templates; with `--wait` it then
watches them until Established, and resets its REST mapper.

Lists honour equality-based label selectors (`-l key=value,key!=value,key`), which kmock
ignores, so that `chartgen status` can select a release's workloads by their chart labels. The
metrics API (`metrics.k8s.io/v1beta1` NodeMetrics and PodMetrics, listed by kmock's bundled
discovery) is served from the objects a test puts there, or withdrawn (`metrics_api=False`) as
on a cluster without metrics-server. `EmulatedCluster.put` stores any object, so that a test
can seed the Nodes and Pods that no kubelet or scheduler would make.

An OpenAPI v2 document with no paths is served too (protobuf, as client-go asks for it): helm
falls back to it for a kind that the v3 index lacks, and then reports the kind unknown ("no
matches for kind"), as against a real cluster, instead of failing on a 404.

`EmulatedCluster` runs the emulator on 127.0.0.1 in a thread of its own, so that the tests (and
chartgen's own asyncio loop) stay synchronous, and writes a kubeconfig pointing at it.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import gzip
import hashlib
import importlib.resources
import json
import re
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import kmock
from typing_extensions import override

NAMESPACES = kmock.resource("", "v1", "namespaces")
METRICS_GROUP = "metrics.k8s.io"
JOBS = kmock.resource("batch", "v1", "jobs")
CRDS = kmock.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
APPLY_PATCH = "application/apply-patch+yaml"
NAMESPACE_PATH = re.compile(r"/api/v1/namespaces(?:/(?P<name>[^/]+))?/?")
OPENAPI_PATH = re.compile(r"/openapi/v3(?:/(?P<group_version>.+))?")
OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
CUSTOM_RESOURCE_VERBS = {"create", "delete", "deletecollection", "get", "list", "patch"}
CUSTOM_RESOURCE_VERBS |= {"update", "watch"}
# The Kubernetes version the emulator claims: the generated charts require 1.29 or later.
SERVER_VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.4", "platform": "linux/amd64"}


@attrs.define(kw_only=True)
class HelmReadyEmulator(kmock.KubernetesEmulator):
    """kmock's emulator with the four gaps closed; `refused` kinds fail as an invalid object."""

    refused: set[str] = attrs.field(factory=set)
    metrics_api: bool = True

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        # kmock's `resources.load_bundled()`, without its deprecated importlib call (the
        # suite turns warnings into errors).
        self.resources.load_data(_bundled_resources())
        if not self.metrics_api:
            for resource in [r for r in self.resources if r.group == METRICS_GROUP]:
                del self.resources[resource]
        # Watch streams go out as application/octet-stream, which client-go cannot decode.
        (
            (self.fallback**1)[kmock.action.WATCH]
            << kmock.headers({"Content-Type": "application/json"})
            << self._serve_watch
        )

    @override
    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        namespace_path = NAMESPACE_PATH.fullmatch(raw_request.path)
        if namespace_path is not None:
            return await self._serve_namespace(raw_request, namespace_path["name"])
        openapi_path = OPENAPI_PATH.fullmatch(raw_request.path)
        if openapi_path is not None and raw_request.method == "GET":
            return self._serve_openapi(openapi_path["group_version"])
        if raw_request.path == "/openapi/v2" and raw_request.method == "GET":
            return aiohttp.web.Response(body=_openapi_v2(), content_type=OPENAPI_V2_PROTOBUF)
        try:
            return await super().__call__(raw_request)
        finally:
            # kmock keeps every request for assertions and scans all of them again for each
            # new one: quadratic, seconds per helm command after a few hundred. These tests
            # assert on objects, not on requests, so each one is forgotten once answered.
            self._requests[:] = [
                request for request in self._requests if request._raw_request is not raw_request
            ]

    @override
    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        resource = request.resource
        if resource is not None and request.action in (kmock.action.CREATE, kmock.action.UPDATE):
            kind = self._kind(resource)
            if kind in self.refused:
                raise kmock.KubernetesError(
                    status=422,
                    reason="Invalid",
                    message=f"{kind} is refused by this test cluster",
                )
            if request.action == kmock.action.UPDATE and _is_apply(request):
                await self._create_missing(request)
            if resource == JOBS and request.action == kmock.action.CREATE:
                _complete_job(request.data)
            if resource == CRDS:
                self._serve_custom_resources(request.data)
        if resource == CRDS and request.action == kmock.action.DELETE and request.name:
            response = await super()._handle(request)
            self._withdraw_custom_resources(request.name)
            return response
        return await super()._handle(request)

    async def _create_missing(self, request: kmock.Request) -> None:
        assert request.resource is not None and request.name is not None
        key = (request.resource, request.namespace, request.name)
        async with self._lock:
            if key not in self.objects or self.objects[key].deleted:
                body = copy.deepcopy(request.data)
                if request.resource == JOBS:
                    _complete_job(body)
                if request.resource == CRDS:
                    self._serve_custom_resources(body)
                self.objects[key] = body

    def _serve_custom_resources(self, crd: Any) -> None:
        """Declares the kinds of a CustomResourceDefinition and reports it Established."""
        if not isinstance(crd, dict):
            return
        spec = crd.get("spec") or {}
        names = dict(spec.get("names") or {})
        if not spec.get("group") or not names.get("plural") or not names.get("kind"):
            return  # a partial patch (of labels, say): the kinds stay as they are
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", f"{names['kind']}List")
        self._forget_kinds(spec["group"], names["plural"])
        for version in spec.get("versions") or []:
            if version.get("served", True):
                key = kmock.resource(spec["group"], version["name"], names["plural"])
                self.resources[key] = kmock.ResourceInfo(
                    kind=names["kind"],
                    singular=names["singular"],
                    namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                    verbs=CUSTOM_RESOURCE_VERBS,
                    shortnames=names.get("shortNames") or (),
                    categories=names.get("categories") or (),
                    subresources=(version.get("subresources") or {}).keys(),
                )
        crd["status"] = {
            "acceptedNames": names,
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts"},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"},
            ],
        }

    def _forget_kinds(self, group: str, plural: str) -> list[kmock.resource]:
        forgotten = [
            resource
            for resource in self.resources
            if resource.group == group and resource.plural == plural
        ]
        for resource in forgotten:
            del self.resources[resource]
        return forgotten

    def _withdraw_custom_resources(self, name: str) -> None:
        """A deleted CustomResourceDefinition takes its kinds and their objects with it."""
        plural, _, group = name.partition(".")
        forgotten = set(self._forget_kinds(group, plural))
        for (resource, _namespace, _name), obj in self.objects.items():
            if resource in forgotten and not obj.deleted:
                obj.delete()

    @override
    async def _serve_version(self, request: kmock.Request) -> Any:
        document = await super()._serve_version(request)
        assert isinstance(document, dict)
        document["groupVersion"] = document["groupVersion"].lstrip("/")
        for entry in document["resources"]:
            if "/" in entry["name"]:  # a subresource: kmock copies its parent's names
                entry["shortNames"], entry["categories"] = [], []
        return document

    @override
    async def _serve_apis(self, request: kmock.Request) -> Any:
        document = await super()._serve_apis(request)
        assert isinstance(document, dict)
        for group in document["groups"]:
            _prefer_stable(group)
        return document

    @override
    async def _serve_group(self, request: kmock.Request) -> Any:
        document = await super()._serve_group(request)
        assert isinstance(document, dict)
        _prefer_stable(document)
        return document

    @override
    async def _serve_list(self, request: kmock.Request) -> Any:
        # client-go's list decoding needs the list's own kind and apiVersion.
        document = await super()._serve_list(request)
        assert isinstance(document, dict) and request.resource is not None
        resource = request.resource
        selector = request.params.get("labelSelector")
        if selector:
            document["items"] = [
                item for item in document["items"] if _selected(item, str(selector))
            ]
        group_version = f"{resource.group}/{resource.version}".lstrip("/")
        return {"apiVersion": group_version, "kind": f"{self._kind(resource)}List", **document}

    @override
    async def _serve_watch(self, request: kmock.Request) -> AsyncIterator[Any]:
        # kmock's own watch, plus the bookmark that ends the initial events of a "watch list"
        # (`sendInitialEvents=true`), which client-go waits for before it trusts its cache.
        resource = request.resource
        assert resource is not None
        yield b""
        async with self._lock:
            initial = [
                copy.deepcopy(obj.raw)
                for (object_resource, namespace, _name), obj in self.objects.items()
                if object_resource == resource and not obj.deleted
                if request.namespace is None or namespace == request.namespace
            ]
        for raw in initial:
            yield {"type": "ADDED", "object": raw}
        if request.params.get("sendInitialEvents") == "true":
            group_version = f"{resource.group}/{resource.version}".lstrip("/")
            bookmark = {
                "apiVersion": group_version,
                "kind": self._kind(resource),
                "metadata": {
                    "resourceVersion": "1",
                    "annotations": {"k8s.io/initial-events-end": "true"},
                },
            }
            yield {"type": "BOOKMARK", "object": bookmark}
        async for event in self._buses[resource]:
            namespace = event.get("object", {}).get("metadata", {}).get("namespace")
            if request.namespace is None or namespace == request.namespace:
                yield event

    @override
    async def _serve_server_version(self, request: kmock.Request) -> Any:
        return dict(SERVER_VERSION)

    def _kind(self, resource: kmock.resource) -> str:
        if resource not in self.resources:  # indexing would declare it
            return str(resource.plural)
        return self.resources[resource].kind or str(resource.plural)

    async def _serve_namespace(
        self, raw_request: aiohttp.web.BaseRequest, name: str | None
    ) -> aiohttp.web.StreamResponse:
        body = await raw_request.read()
        data = json.loads(body) if body else {}
        async with self._lock:
            if name is None:
                if raw_request.method == "GET":
                    items = [obj.raw for obj in self._namespace_objects()]
                    return _json({"kind": "NamespaceList", "apiVersion": "v1", "items": items})
                if raw_request.method == "POST":
                    return self._store_namespace(data["metadata"]["name"], data, exists_ok=False)
                return _status(405, "MethodNotAllowed", "not supported by the emulator")
            key = (NAMESPACES, None, name)
            present = key in self.objects and not self.objects[key].deleted
            if raw_request.method == "GET":
                if not present:
                    return _status(404, "NotFound", f'namespaces "{name}" not found')
                return _json(self.objects[key].raw)
            if raw_request.method in ("PUT", "PATCH"):
                return self._store_namespace(name, data, exists_ok=True)
            if raw_request.method == "DELETE":
                if not present:
                    return _status(404, "NotFound", f'namespaces "{name}" not found')
                last = self.objects[key].raw
                self.objects[key].delete()
                return _json(last)
        return _status(405, "MethodNotAllowed", "not supported by the emulator")

    def _store_namespace(
        self, name: str, data: dict[str, Any], exists_ok: bool
    ) -> aiohttp.web.StreamResponse:
        key = (NAMESPACES, None, name)
        if key in self.objects and not self.objects[key].deleted:
            if not exists_ok:
                return _status(409, "AlreadyExists", f'namespaces "{name}" already exists')
            self.objects[key].patch(data)
        else:
            body = {"apiVersion": "v1", "kind": "Namespace", **data}
            body.setdefault("metadata", {})["name"] = name
            body["status"] = {"phase": "Active"}
            self.objects[key] = body
        return _json(self.objects[key].raw, status=201)

    def _namespace_objects(self) -> Iterator[kmock.Object]:
        for (resource, _namespace, _name), obj in self.objects.items():
            if resource == NAMESPACES and not obj.deleted:
                yield obj

    def _serve_openapi(self, group_version: str | None) -> aiohttp.web.StreamResponse:
        by_path: dict[str, list[kmock.resource]] = {}
        for resource in self.resources:
            prefix = "api/v1" if resource.group == "" else f"apis/{resource.group}"
            path = prefix if resource.group == "" else f"{prefix}/{resource.version}"
            by_path.setdefault(path, []).append(resource)
        if group_version is None:
            return _json(
                {
                    "paths": {
                        path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={self._hash(found)}"}
                        for path, found in sorted(by_path.items())
                    }
                }
            )
        resources = by_path.get(group_version)
        if resources is None:
            return _status(404, "NotFound", f"no OpenAPI document for {group_version}")
        return _json(
            {
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": SERVER_VERSION["gitVersion"]},
                "paths": dict(self._patch_operation(resource) for resource in resources),
            }
        )

    def _hash(self, resources: list[kmock.resource]) -> str:
        """Changes with the group-version's kinds, as clients cache documents by it."""
        described = sorted(
            (str(r.plural), str(self._kind(r)), bool(self.resources[r].namespaced))
            for r in resources
        )
        return hashlib.sha256(json.dumps(described).encode()).hexdigest()[:16]

    def _patch_operation(self, resource: kmock.resource) -> tuple[str, dict[str, Any]]:
        info = self.resources[resource]
        base = "/api/v1" if resource.group == "" else f"/apis/{resource.group}/{resource.version}"
        scope = "/namespaces/{namespace}" if info.namespaced else ""
        operation = {
            "parameters": [
                {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}
            ],
            "x-kubernetes-group-version-kind": {
                "group": resource.group,
                "version": resource.version,
                "kind": info.kind,
            },
        }
        return f"{base}{scope}/{resource.plural}/{{name}}", {"patch": operation}


@functools.cache
def _bundled_resources() -> bytes:
    packed = importlib.resources.files("kmock._internal").joinpath("resources.json.gz")
    return gzip.decompress(packed.read_bytes())


_VERSION = re.compile(r"v(?P<major>\d+)(?:(?P<stage>alpha|beta)(?P<minor>\d+))?")


def _version_priority(version: str) -> tuple[int, int, int, str]:
    """Kubernetes' order of versions: GA, then beta, then alpha, newest first; others last."""
    match = _VERSION.fullmatch(version)
    if match is None:
        return (0, 0, 0, version)
    stage = {None: 3, "beta": 2, "alpha": 1}[match["stage"]]
    return (stage, int(match["major"]), int(match["minor"] or 0), version)


def _prefer_stable(group: dict[str, Any]) -> None:
    """kmock picks a group's preferred version at random (from a set): the most stable one."""
    versions = sorted(
        group["versions"], key=lambda v: _version_priority(v["version"]), reverse=True
    )
    group["versions"] = versions
    if versions:
        group["preferredVersion"] = dict(versions[0])


def _protobuf_field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (short payloads only)."""
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


@functools.cache
def _openapi_v2() -> bytes:
    """An OpenAPI v2 document (gnostic's openapi.v2.Document) with no paths."""
    info = _protobuf_field(1, b"Kubernetes") + _protobuf_field(
        2, SERVER_VERSION["gitVersion"].encode()
    )
    return _protobuf_field(1, b"2.0") + _protobuf_field(2, info) + _protobuf_field(8, b"")


def _selected(item: Any, selector: str) -> bool:
    """Whether an object's labels match an equality-based selector (`a=b,c!=d,e,!f`)."""
    labels = (item.get("metadata") or {}).get("labels") or {}
    for term in selector.split(","):
        term = term.strip()
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term and term not in labels:
            return False
    return True


def _is_apply(request: kmock.Request) -> bool:
    return str(request.headers.get("Content-Type", "")).startswith(APPLY_PATCH)


def _complete_job(job: Any) -> None:
    """No controller runs the Job: report it complete at once (helm waits for hook Jobs)."""
    if isinstance(job, dict):
        job["status"] = {
            "succeeded": 1,
            "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True"},
                {"type": "Complete", "status": "True"},
            ],
        }


def _json(document: Any, status: int = 200) -> aiohttp.web.Response:
    return aiohttp.web.json_response(document, status=status)


def _status(code: int, reason: str, message: str) -> aiohttp.web.Response:
    return _json(
        {
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "reason": reason,
            "message": message,
            "code": code,
        },
        status=code,
    )


@dataclass
class EmulatedCluster:
    """The emulator served on 127.0.0.1 from a thread of its own, with a kubeconfig for it."""

    emulator: HelmReadyEmulator
    url: str
    kubeconfig: Path
    _loop: asyncio.AbstractEventLoop
    _stop: asyncio.Event
    _thread: threading.Thread

    def objects(self, plural: str, namespace: str | None = None) -> dict[str, dict[str, Any]]:
        """The live objects of one kind (by plural), by name, in NAMESPACE or cluster-wide."""
        found: dict[str, dict[str, Any]] = {}
        for (resource, object_namespace, name), obj in list(self.emulator.objects.items()):
            if resource.plural != plural or obj.deleted:
                continue
            if namespace is None or object_namespace == namespace:
                found[name] = copy.deepcopy(obj.raw)
        return found

    def put(self, body: dict[str, Any]) -> None:
        """Stores BODY (its apiVersion, kind and metadata say where) as if a controller had made
        it: Nodes, Pods with their status, metrics; replaces an object of the same name."""
        group, _, version = str(body["apiVersion"]).rpartition("/")
        metadata = body["metadata"]
        resource = self._resource(group, version, str(body["kind"]))

        async def store() -> None:
            async with self.emulator._lock:
                key = (resource, metadata.get("namespace"), metadata["name"])
                if key in self.emulator.objects:
                    self.emulator.objects[key].delete()
                    self.emulator.objects[key].create(copy.deepcopy(body))
                else:
                    self.emulator.objects[key] = copy.deepcopy(body)

        asyncio.run_coroutine_threadsafe(store(), self._loop).result(timeout=30)

    def _resource(self, group: str, version: str, kind: str) -> kmock.resource:
        for known in list(self.emulator.resources):
            if not isinstance(known, kmock.resource) or "/" in str(known.plural):
                continue
            if (known.group, known.version, self.emulator._kind(known)) == (group, version, kind):
                return known
        raise KeyError(f"no kind {kind} in {group}/{version}")

    def remove(self, plural: str, name: str, namespace: str | None = None) -> None:
        """Deletes one object (a node gone, a pod evicted)."""

        async def delete() -> None:
            async with self.emulator._lock:
                for key, obj in self.emulator.objects.items():
                    if (key[0].plural, key[1], key[2]) == (plural, namespace, name):
                        obj.delete()

        asyncio.run_coroutine_threadsafe(delete(), self._loop).result(timeout=30)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


def start_cluster(
    kubeconfig: Path, refused: set[str] | None = None, metrics_api: bool = True
) -> EmulatedCluster:
    """Serves a fresh emulator and writes KUBECONFIG for it; call `.stop()` when done."""
    emulator = HelmReadyEmulator(refused=set(refused or ()), metrics_api=metrics_api)
    started: Future[tuple[str, asyncio.AbstractEventLoop, asyncio.Event]] = Future()

    async def serve() -> None:
        stop = asyncio.Event()
        try:
            async with emulator, kmock.Server(emulator) as server:
                started.set_result((str(server.url).rstrip("/"), asyncio.get_running_loop(), stop))
                await stop.wait()
        except BaseException as error:
            if not started.done():
                started.set_exception(error)
            raise

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    url, loop, stop = started.result(timeout=30)
    kubeconfig.write_text(kubeconfig_text(url))
    return EmulatedCluster(emulator, url, kubeconfig, loop, stop, thread)


def kubeconfig_text(server: str, context: str = "emulated") -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": server}}],
            "users": [{"name": context, "user": {"token": "emulated"}}],
            "contexts": [
                {"name": context, "context": {"cluster": context, "user": context}},
            ],
            "current-context": context,
        },
        indent=2,
    )
