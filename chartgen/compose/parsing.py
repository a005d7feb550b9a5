"""Pure helpers of the Compose import, tested on their own: a file's bytes as text, DNS
labels, image references, ports, commands and health-check commands, Docker CPU and memory
sizes, `NAME=VALUE` items."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Sequence
from fractions import Fraction
from pathlib import PurePath
from typing import Any

from chartgen.loader import MAX_INPUT_BYTES
from chartgen.problems import Problem
from chartgen.quantity import format_cpu, format_memory

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_SHELL_TOKEN = re.compile(r"^(?:&&|\|\||\||;|&|[0-9]?>>?(?:&[0-9])?|<|<<)$")
_LOCAL_URL = re.compile(
    r"^http://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<path>/[^\s]*)?$"
)
_DOCKER_MEMORY = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[bkmgt]?)b?$", re.I)
_DOCKER_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}

# Container ports by their usual service name (an IANA_SVC_NAME, at most 15 characters).
_PORT_NAMES = {
    22: "ssh",
    25: "smtp",
    53: "dns",
    80: "http",
    389: "ldap",
    443: "https",
    1883: "mqtt",
    3306: "mysql",
    5432: "postgresql",
    5672: "amqp",
    6379: "redis",
    11211: "memcached",
    27017: "mongodb",
}


def decode(raw: bytes, source: str) -> str | Problem:
    """A file's bytes as text, or the problem that stops it (too large, not UTF-8)."""
    if len(raw) > MAX_INPUT_BYTES:
        limit = MAX_INPUT_BYTES // (1024 * 1024)
        return Problem(1, 1, "", f"file is larger than {limit} MiB", file=source)
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        message = f"not valid UTF-8 (byte 0x{raw[error.start]:02x})"
        return Problem(line, column, "", message, file=source)


def dns_label(text: str, limit: int, *, truncate: bool = False) -> str | None:
    """`text` made a DNS-1123 label (lowercase, other characters as `-`), or None; cut to
    `limit` characters with `truncate`."""
    label = re.sub(r"[^a-z0-9-]", "-", text.lower()).strip("-")
    if truncate:
        label = label[:limit].rstrip("-")
    if not label or len(label) > limit or not _DNS_LABEL.match(label):
        return None
    return label


def unique(name: str, taken: Collection[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"


def split_image(reference: str) -> dict[str, str] | str:
    """`[registry/]path[:tag][@digest]` as {repository, tag, digest?}, or why not."""
    reference = reference.strip()
    rest, _sep, digest = reference.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        repository, tag = rest[:colon], rest[colon + 1 :]
    else:
        repository, tag = rest, ""
    if not repository:
        return f"`{reference}` names no image"
    if digest and not _DIGEST.match(digest):
        return f"`{digest}` is not a digest (sha256:<64 hex digits>)"
    if not tag:
        if digest:
            return (
                f"`{reference}` has a digest but no tag: chartgen needs the tag too "
                f"(`{repository}:TAG@{digest}`)"
            )
        return (
            f"`{reference}` has no tag: Docker pulls `latest`, which chartgen refuses; pin a "
            f"version (`{repository}:VERSION`)"
        )
    if tag == "latest":
        return f"`{reference}`: chartgen refuses the tag `latest`; pin a version"
    image = {"repository": repository, "tag": tag}
    if digest:
        image["digest"] = digest
    return image


def parse_port(text: str) -> tuple[str, int, int, str] | str:
    """A short-syntax port `[[IP:]HOST:]CONTAINER[/PROTOCOL]` as (host part, first container
    port, last container port, protocol), or why not."""
    spec, _sep, protocol = text.strip().partition("/")
    protocol = (protocol or "tcp").upper()
    if spec.startswith("["):  # [IPv6]:HOST:CONTAINER
        closing = spec.find("]:")
        if closing < 0:
            return f"`{text}` is not a port"
        spec = spec[closing + 2 :]
    parts = spec.split(":")
    if len(parts) > 3 or not parts[-1]:
        return f"`{text}` is not a port"
    container = parts[-1]
    host = parts[-2] if len(parts) >= 2 else ""
    first_text, _dash, last_text = container.partition("-")
    if not first_text.isdigit() or (last_text and not last_text.isdigit()):
        return f"`{text}` is not a port"
    first, last = int(first_text), int(last_text or first_text)
    if not 1 <= first <= last <= 65535:
        return f"`{text}`: a port is from 1 to 65535"
    return host, first, last, protocol


def port_name(number: int, protocol: str, wanted: str | None, taken: Collection[str]) -> str:
    """A unique IANA_SVC_NAME for a container port."""
    candidates = []
    if wanted is not None:
        candidates.append(wanted.lower())
    usual = _PORT_NAMES.get(number)
    if usual is not None:
        candidates.append(usual if protocol == "TCP" or usual == "dns" else f"{usual}-udp")
        if number == 53:
            candidates[-1] = "dns" if protocol == "UDP" else "dns-tcp"
    candidates.append(f"{protocol.lower()}-{number}")
    for candidate in candidates:
        if is_port_name(candidate) and candidate not in taken:
            return candidate
    return unique(f"{protocol.lower()}-{number}", taken)


def is_port_name(name: str) -> bool:
    return (
        1 <= len(name) <= 15
        and re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", name) is not None
        and "--" not in name
        and re.search(r"[a-z]", name) is not None
    )


def split_command(text: str) -> list[str]:
    """A string `command`/`entrypoint` split into words as Compose does (shell-like quoting,
    no shell). Raises ValueError on unbalanced quotes."""
    return shlex.split(text, comments=False, posix=True)


def shell_syntax(words: Sequence[str]) -> str | None:
    """The first word that only a shell understands (`&&`, `|`, `>`, `$(...)`), if any."""
    for word in words:
        if _SHELL_TOKEN.match(word) or word.endswith(";") or "`" in word or "$(" in word:
            return word
    return None


def http_check(command: str | Sequence[str], *, shell: bool) -> dict[str, Any] | None:
    """{path, port} when a healthcheck only fetches a local http URL with curl --fail or wget."""
    if shell:
        assert isinstance(command, str)
        try:
            words = split_command(command)
        except ValueError:
            return None
        if words[-3:] == ["||", "exit", "1"]:
            words = words[:-3]
        elif words[-2:] == ["||", "exit"]:
            words = words[:-2]
    else:
        words = list(command)
    if not words or PurePath(words[0]).name not in ("curl", "wget"):
        return None
    program = PurePath(words[0]).name
    urls = [word for word in words[1:] if not word.startswith("-")]
    flags = [word for word in words[1:] if word.startswith("-")]
    if len(urls) != 1:
        if not (len(urls) == 2 and urls[0] == "/dev/null"):
            return None
        urls = urls[1:]
    match = _LOCAL_URL.match(urls[0])
    if match is None:
        return None
    if program == "curl" and not any(
        flag in ("--fail", "--fail-with-body") or (not flag.startswith("--") and "f" in flag[1:])
        for flag in flags
    ):
        return None
    port = int(match["port"] or 80)
    if not 1 <= port <= 65535:
        return None
    return {"path": match["path"] or "/", "port": port}


def docker_cpu(text: str) -> str | None:
    """Compose `cpus` ("0.5") as a Kubernetes CPU quantity ("500m")."""
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        return None
    if value <= 0:
        return None
    return format_cpu(value)


def docker_memory(text: str) -> str | None:
    """A Docker size ("512M", "1.5g", "1048576": binary units) as a Kubernetes quantity."""
    match = _DOCKER_MEMORY.match(text.strip())
    if match is None:
        return None
    size = Fraction(match["number"]) * _DOCKER_UNITS[match["unit"].lower()]
    if size <= 0:
        return None
    return format_memory(size)


def split_assignment(entry: str) -> tuple[str, str | None]:
    """An item of Compose's list form of `environment` (or `annotations`): `NAME=VALUE` as
    (NAME, VALUE), the value being everything after the first `=`; a bare `NAME` (which Compose
    takes from its own environment) as (NAME, None)."""
    name, sep, value = entry.partition("=")
    return name, value if sep else None
