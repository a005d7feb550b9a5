"""A service's container ports (`ports`, `expose`, or the usual port of a well-known
server image), each with a unique name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from chartgen.compose.context import PathPart, _Builder, _Context
from chartgen.compose.parsing import parse_port, port_name

MAX_PORT_RANGE = 20
# The port a well-known server image listens on when its Compose service declares none (a
# database behind an app usually does not: Compose lets every container reach every port).
_DEFAULT_PORTS = {
    "postgres": 5432,
    "postgis": 5432,
    "pgvecto-rs": 5432,
    "mysql": 3306,
    "mariadb": 3306,
    "redis": 6379,
    "valkey": 6379,
    "mongo": 27017,
    "memcached": 11211,
    "rabbitmq": 5672,
    "eclipse-mosquitto": 1883,
}


class _Ports(_Context):
    """`ports` and `expose`."""

    def ports(
        self,
        service: CommentedMap,
        here: list[PathPart],
        built: _Builder,
        repository: str | None,
    ) -> None:
        found: list[tuple[int, str, str | None, list[PathPart]]] = []
        published: list[str] = []
        for compose_key in ("ports", "expose"):
            where = [*here, compose_key]
            entries = self.sequence(service.get(compose_key), where)
            if entries is None:
                continue
            for index, entry in enumerate(entries):
                item: list[PathPart] = [*where, index]
                for port in self.port_entry(entries, index, entry, item, published, compose_key):
                    found.append((*port, item))
        if published:
            self.warn(
                [*here, "ports"],
                f"host ports are not published ({', '.join(dict.fromkeys(published))}): in the "
                "cluster the "
                "service answers on its container ports; `expose` routes a host name to the "
                "first TCP port",
                key=True,
            )
        if not found:
            default = _DEFAULT_PORTS.get((repository or "").rsplit("/", 1)[-1])
            if default is not None:
                found.append((default, "TCP", None, here))
                self.warn(
                    here,
                    f"declares no port: {default}, the port `{repository}` listens on, is "
                    f"added so that the other services reach it as `{here[1]}:{default}`",
                    key=True,
                )
            elif repository is not None:
                self.warn(
                    here,
                    "declares no port: other services cannot reach it (Compose opens every "
                    "port between containers, Kubernetes only a Service's); list them under "
                    "`expose` if they must",
                    key=True,
                )
                return
            else:
                return
        ports: list[dict[str, Any]] = []
        taken: set[str] = set()
        seen: set[tuple[int, str]] = set()
        for number, protocol, wanted, item in found:
            if (number, protocol) in seen:
                continue
            seen.add((number, protocol))
            name = port_name(number, protocol, wanted, taken)
            taken.add(name)
            built.origins[("ports", len(ports))] = (
                self.origin(item, key=True) if item is here else self.origin(item)
            )
            ports.append({"name": name, "port": number, "protocol": protocol})
        built.spec["ports"] = ports
        built.origins[("ports",)] = built.origins[("ports", 0)]

    def port_entry(
        self,
        entries: CommentedSeq,
        index: int,
        entry: Any,
        item: list[PathPart],
        published: list[str],
        compose_key: str,
    ) -> Iterator[tuple[int, str, str | None]]:
        if isinstance(entry, CommentedMap):
            if compose_key == "expose":
                self.error(item, "must be a port number or a PORT/PROTOCOL string")
                return
            target = entry.get("target")
            if isinstance(target, bool) or not isinstance(target, (int, str)):
                self.error(item, "a port needs its `target` (the container port)")
                return
            protocol = str(entry.get("protocol", "tcp"))
            wanted = entry.get("name") or entry.get("app_protocol")
            if entry.get("published") not in (None, ""):
                published.append(str(entry["published"]))
            text = f"{target}/{protocol}"
            wanted_name = str(wanted) if isinstance(wanted, str) else None
        else:
            raw = self.text(entries, index, item)
            if raw is None:
                return
            text, wanted_name = raw, None
        parsed = parse_port(text)
        if isinstance(parsed, str):
            self.error(item, parsed)
            return
        host, first, last, protocol = parsed
        if protocol not in ("TCP", "UDP"):
            self.warn(item, f"protocol {protocol.lower()} is not imported (TCP and UDP are)")
            return
        if compose_key == "ports" and host:
            published.append(host)
        if last - first + 1 > MAX_PORT_RANGE:
            self.warn(
                item,
                f"a range of {last - first + 1} ports is not imported: list the ports the "
                "service needs",
            )
            return
        for number in range(first, last + 1):
            yield number, protocol, wanted_name if first == last else None
