"""The `nextcloud` kind: the Nextcloud stack (PHP-FPM, a web front, PostgreSQL, Redis when
needed, the cron job), its model, rules and the values of blueprints/nextcloud.

Everything in the values is data taken from the model; the blueprint's templates decide the
objects.
Names the chart gives to its claims are mirrored here (see `name_prefix`) because the storage
chart creates local PersistentVolumes for them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from chartgen import images
from chartgen.charts import AccessMode, ChartSource, Claim
from chartgen.charts.common import (
    arch_affinity,
    autoscaling_values,
    node_affinity,
    objects_name,
    resource_block,
    string_map,
    usable_architectures,
)
from chartgen.kinds import BuildContext, Kind, schema_fragment
from chartgen.loader import Document
from chartgen.model import Datacenter, Resources, Service, Volume, volume_from
from chartgen.model_types import ARCHES, Arch, Level
from chartgen.problems import Problem, format_path
from chartgen.quantity import format_memory
from chartgen.routes import route_values, scheme
from chartgen.rule_support import error_at, service_path, warning_at

BLUEPRINT = "nextcloud"
Web = Literal["apache", "nginx"]

# 1Gi: PHP's memory_limit 512M (Nextcloud's recommendation) plus what FPM needs besides (see
# fpm_children) leaves room for 5 workers.
DEFAULT_RESOURCES = Resources(cpu="250m", memory="1Gi")
# The containers of the stack besides PHP-FPM; not user-settable in format v1.
WEB_FRONT_RESOURCES = Resources(cpu="50m", memory="64Mi")
POSTGRES_CPU = "250m"  # its memory follows its connections: postgres_memory
REDIS_RESOURCES = Resources(cpu="50m", memory="64Mi")
BACKUP_RESOURCES = Resources(cpu="100m", memory="256Mi")
KNOWN_REPOSITORIES = frozenset({"nextcloud"})

# The chart's `nextcloud.prefix` helper: the full name cut to 41 characters, "-" trimmed.
_PREFIX_LENGTH = 41
DEFAULT_BACKUP_SCHEDULE = "30 2 * * *"
DEFAULT_BACKUP_KEEP = 7
DEFAULT_SMTP_PORT = 587
# SMTPS: Nextcloud's mailer speaks TLS from the first byte only with mail_smtpsecure 'ssl';
# on other ports it upgrades with STARTTLS when the server offers it.
SMTPS_PORT = 465

_MAIL_KEYS = (
    "mail_smtpmode",
    "mail_smtphost",
    "mail_smtpport",
    "mail_smtpsecure",
    "mail_from_address",
    "mail_domain",
    "mail_smtpauth",
    "mail_smtpname",
    "mail_smtppassword",
)
_INSTALLER_KEYS = (
    "dbtype",
    "dbhost",
    "dbname",
    "dbuser",
    "dbpassword",
    "dbport",
    "dbtableprefix",
    "datadirectory",
    "instanceid",
    "passwordsalt",
    "secret",
    "version",
    "installed",
)
# Keys of config.php that chartgen writes itself (or Nextcloud's installer and `occ` own):
# `config` may not set them, and each names what to use instead.
OWNED_CONFIG_KEYS: Mapping[str, str] = {
    "trusted_domains": "it is the service's `host`",
    "trusted_proxies": "use `trustedProxies`",
    "overwriteprotocol": "it follows `expose.tls`",
    "overwrite.cli.url": "it is made of `host` and `expose.tls`",
    "htaccess.RewriteBase": "the chart serves Nextcloud at the root of its host",
    "maintenance_window_start": "the chart sets it",
    "default_phone_region": "use `phoneRegion`",
    "default_language": "use `defaultLanguage`",
    "upgrade.disable-web": "the chart upgrades Nextcloud when its image changes",
    "apps_paths": "the chart sets the app folders",
    "memcache.local": "the chart sets the caches",
    "memcache.distributed": "it follows `redis`",
    "memcache.locking": "it follows `redis`",
    "redis": "it follows `redis`",
    **dict.fromkeys(_MAIL_KEYS, "use `mail`"),
    **dict.fromkeys(_INSTALLER_KEYS, "Nextcloud's installer writes it at installation"),
    "maintenance": "`chartgen backup` and `chartgen restore` switch it with occ",
}

ConfigScalar = str | int | float | bool
ConfigValue = ConfigScalar | tuple[ConfigScalar, ...]


@dataclass(frozen=True)
class Backup:
    """Scheduled pg_dump runs onto a claim of their own, the newest `keep` dumps kept."""

    schedule: str
    keep: int
    storage: Volume


@dataclass(frozen=True)
class Mail:
    host: str
    port: int
    sender: str  # the `from` address
    secret: str | None  # Secret with keys `username` and `password`, made outside git

    @property
    def from_address(self) -> str:
        """The local part of the sender: Nextcloud's mail_from_address."""
        return self.sender.rsplit("@", 1)[0]

    @property
    def domain(self) -> str:
        return self.sender.rsplit("@", 1)[1]


_MI = 2**20
# PHP's shorthand byte values (memory_limit, upload_max_filesize): K, M, G are powers of 1024.
_PHP_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}
DEFAULT_PHP_MEMORY_LIMIT = "512M"
DEFAULT_PHP_UPLOAD_MAX_SIZE = "512M"
# Below this Nextcloud does not run (its admin page asks for 512M).
MIN_PHP_MEMORY_LIMIT = 128 * _MI
# Memory of the FPM container besides its workers: OPcache's shared segment (the chart's
# opcache.memory_consumption 128M, which holds the interned strings buffer, plus the image's
# opcache.jit_buffer_size 8M), APCu's (apc.shm_size, 32M by default), and the FPM master with
# some slack. Shared memory counts against the container's limit once touched.
FPM_FIXED_MEMORY = (128 + 8 + 32 + 32) * _MI
# What a warm Nextcloud worker really holds besides the shared segments, per request.
FPM_WORKER_MEMORY = 64 * _MI
# Fewer workers than this and a few slow requests (uploads, previews) block every other one.
MIN_FPM_CHILDREN = 4
# More is CPU-bound contention for a pod, and PostgreSQL connections for nothing.
MAX_FPM_CHILDREN = 32
# PostgreSQL: shared_buffers (set by the chart) plus its own processes (postmaster,
# checkpointer, WAL writer, autovacuum) and slack, plus each connection's backend (catalog
# caches and work_mem sorts), for every FPM worker of every pod and a few more (cron, the
# upgrade Job, an operator's psql).
POSTGRES_SHARED_BUFFERS = 128 * _MI
POSTGRES_BASE_MEMORY = POSTGRES_SHARED_BUFFERS + 128 * _MI
POSTGRES_MEMORY_PER_CONNECTION = 8 * _MI
POSTGRES_SPARE_CONNECTIONS = 5


@dataclass(frozen=True)
class PhpSettings:
    """PHP's own shorthand strings ("512M", "1G"), written into php.ini as given."""

    memory_limit: str = DEFAULT_PHP_MEMORY_LIMIT
    upload_max_size: str = DEFAULT_PHP_UPLOAD_MAX_SIZE

    @property
    def memory_limit_bytes(self) -> int:
        return php_bytes(self.memory_limit)


# The post-upgrade hook Job waits this long for the pods to upgrade Nextcloud, then has this
# long for occ's database maintenance (templates/upgrade-hook.yaml: its activeDeadlineSeconds).
UPGRADE_WAIT_SECONDS = 1200
UPGRADE_WORK_SECONDS = 1800
# helm waits for a hook Job within the release's --timeout (5m by default): the Job's whole
# budget and this margin, else a slow upgrade fails the release (and a rollback would bring
# back an image older than the data).
UPGRADE_MARGIN_SECONDS = 300


@dataclass(frozen=True)
class NextcloudService(Service):
    host: str
    web: Web
    storage: Volume
    database_storage: Volume
    redis: bool
    tls: bool
    backup: Backup | None = None
    mail: Mail | None = None
    phone_region: str | None = None
    default_language: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    config: Mapping[str, ConfigValue] = field(default_factory=dict)
    php: PhpSettings = PhpSettings()

    @property
    def route_host(self) -> str | None:
        return self.host

    @property
    def route_tls(self) -> bool:
        return self.tls


def build(
    raw: Mapping[str, Any], common: Mapping[str, Any], context: BuildContext
) -> NextcloudService:
    autoscaling = raw.get("autoscaling")
    peak_replicas = autoscaling["maxReplicas"] if autoscaling else common["replicas"]
    expose = common["expose"]
    return NextcloudService(
        **common,
        host=raw["host"],
        web=raw.get("web", "apache"),
        storage=volume_from(raw["storage"]),
        database_storage=volume_from(raw["database"]["storage"]),
        redis=raw.get("redis", peak_replicas > 1),
        tls=expose.tls if expose else context.tls_default,
        backup=_backup(raw["database"].get("backup")),
        mail=_mail(raw.get("mail")),
        phone_region=raw.get("phoneRegion"),
        default_language=raw.get("defaultLanguage"),
        trusted_proxies=tuple(raw.get("trustedProxies", ())),
        config={str(key): _config_value(value) for key, value in raw.get("config", {}).items()},
        php=PhpSettings(
            memory_limit=raw.get("php", {}).get("memoryLimit", DEFAULT_PHP_MEMORY_LIMIT),
            upload_max_size=raw.get("php", {}).get("uploadMaxSize", DEFAULT_PHP_UPLOAD_MAX_SIZE),
        ),
    )


def _backup(raw: Mapping[str, Any] | None) -> Backup | None:
    if raw is None:
        return None
    return Backup(
        schedule=raw.get("schedule", DEFAULT_BACKUP_SCHEDULE),
        keep=raw.get("keep", DEFAULT_BACKUP_KEEP),
        storage=volume_from(raw["storage"]),
    )


def _mail(raw: Mapping[str, Any] | None) -> Mail | None:
    if raw is None:
        return None
    return Mail(
        host=raw["host"],
        port=raw.get("port", DEFAULT_SMTP_PORT),
        sender=raw["from"],
        secret=raw.get("secret"),
    )


def _config_value(value: Any) -> ConfigValue:
    """A schema-valid `config` value as plain Python data (lists become tuples)."""
    if isinstance(value, list):
        return tuple(_config_scalar(item) for item in value)
    return _config_scalar(value)


def _config_scalar(value: Any) -> ConfigScalar:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def describe(service: NextcloudService) -> str:
    return f"Nextcloud, {service.web} front"


def guarded(service: NextcloudService) -> str:
    """What the chart's NetworkPolicies keep from other pods (FPM listens on loopback)."""
    stores = "PostgreSQL and Redis" if service.redis else "PostgreSQL"
    return f'the {stores} of "{service.name}"'


def pod_security(_service: NextcloudService) -> Level:
    return "restricted"


def workload_requests(service: NextcloudService) -> list[tuple[Resources, int]]:
    workloads = [
        (service.resources, service.peak_replicas),
        (WEB_FRONT_RESOURCES, service.peak_replicas),
        (postgres_resources(service), 1),
    ]
    if service.redis:
        workloads.append((REDIS_RESOURCES, 1))
    if service.backup is not None:
        workloads.append((BACKUP_RESOURCES, 1))
    return workloads


def main_pod(service: NextcloudService) -> tuple[Resources, ...]:
    return (service.resources, WEB_FRONT_RESOURCES)


def volumes(service: NextcloudService) -> tuple[tuple[tuple[str, ...], Volume], ...]:
    claimed = ((("storage",), service.storage), (("database", "storage"), service.database_storage))
    if service.backup is None:
        return claimed
    return (*claimed, (("database", "backup", "storage"), service.backup.storage))


def main_volumes(service: NextcloudService) -> tuple[Volume, ...]:
    return (service.storage,)


def chart_source(dc: Datacenter, service: NextcloudService) -> ChartSource:
    """The values and claims of the chart of one Nextcloud service."""
    data_class = dc.storage_class(service.storage.storage_class)
    database_class = dc.storage_class(service.database_storage.storage_class)
    data_node = data_class.local.node if data_class and data_class.local else None
    database_node = database_class.local.node if database_class and database_class.local else None
    scaled = service.peak_replicas > 1
    access_mode: AccessMode = "ReadWriteMany" if scaled else "ReadWriteOnce"
    image = service.image or images.NEXTCLOUD
    app_affinity = node_affinity(service.architectures, data_node)

    values: dict[str, Any] = {
        "fullnameOverride": objects_name(service.name, BLUEPRINT),
        "replicaCount": service.replicas,
        "image": {"repository": image.repository, "tag": image.tag},
        "nextcloud": {
            "host": service.host,
            # The router's pods (Traefik, or another implementation's) run in the pod network.
            "trustedProxies": [dc.cluster.pod_subnet, *service.trusted_proxies],
            "overwriteProtocol": scheme(service),
            "defaultPhoneRegion": service.phone_region or "",
            "defaultLanguage": service.default_language or "",
            "mail": mail_values(service.mail),
            "extraConfig": {key: _plain(value) for key, value in service.config.items()},
        },
        "php": {
            "memoryLimit": service.php.memory_limit,
            "uploadLimit": service.php.upload_max_size,
            "fpm": fpm_pool(service.resources.memory_value, service.php.memory_limit_bytes),
        },
        "web": {
            "kind": service.web,
            "apache": {"image": _image(images.HTTPD)},
            "nginx": {"image": _image(images.NGINX)},
            "resources": resource_block(WEB_FRONT_RESOURCES),
        },
        "credentials": {
            "image": _image(images.KUBECTL),
            "affinity": arch_affinity(credentials_architectures(dc, service)),
        },
        "persistence": {
            "storageClass": data_class.name if data_class else "",
            "accessMode": access_mode,
            "size": service.storage.size,
        },
        "postgresql": {
            "image": _image(images.POSTGRES),
            "persistence": {
                "storageClass": database_class.name if database_class else "",
                "size": service.database_storage.size,
            },
            "affinity": node_affinity(service.architectures, database_node),
            "podAnnotations": string_map(service.annotations),
            "resources": resource_block(postgres_resources(service)),
            "maxConnections": postgres_connections(service),
            "sharedBuffers": f"{POSTGRES_SHARED_BUFFERS // _MI}MB",
        },
        "redis": {
            "enabled": service.redis,
            "image": _image(images.REDIS),
            "affinity": arch_affinity(service.architectures),
            "podAnnotations": string_map(service.annotations),
            "resources": resource_block(REDIS_RESOURCES),
        },
        "cron": {"resources": resource_block(service.resources)},
        "backup": backup_values(dc, service),
        "upgradeJob": {
            "waitSeconds": UPGRADE_WAIT_SECONDS,
            "workSeconds": UPGRADE_WORK_SECONDS,
            "resources": resource_block(service.resources),
        },
        "podAnnotations": string_map(service.annotations),
        "resources": resource_block(service.resources),
        "service": {"port": service.expose.port if service.expose else 80},
        **route_values(dc, service),
        "affinity": app_affinity,
        "autoscaling": autoscaling_values(service),
    }
    if dc.platform.monitoring:
        values["metrics"] = metrics_values(service)
    claims = (
        _claim(service, data_claim_name(service.name), service.storage, dc, access_mode),
        _claim(service, database_claim_name(service.name), service.database_storage, dc),
        _claim(service, backup_claim_name(service.name), service.backup.storage, dc)
        if service.backup is not None
        else None,
    )
    return ChartSource(
        blueprint=BLUEPRINT,
        values=values,
        app_version=nextcloud_version(image.tag),
        claims=tuple(claim for claim in claims if claim is not None),
        timeout=release_timeout(),
        # Nextcloud upgrades its database and data for a new version and refuses to start an
        # older one over them ("version of the data is higher").
        forward_only=True,
    )


def metrics_values(service: NextcloudService) -> dict[str, Any]:
    """`metrics` (platform.monitoring): the exporters' images; nextcloud-exporter only where
    its image runs (it has no 32-bit ARM build)."""
    exporter_arches = tuple(
        arch for arch in service.architectures if arch in images.NEXTCLOUD_EXPORTER.platforms
    )
    return {
        "enabled": True,
        "postgresql": {"image": _image(images.POSTGRES_EXPORTER)},
        "redis": {"image": _image(images.REDIS_EXPORTER)},
        "nextcloud": {
            "enabled": bool(exporter_arches),
            "image": _image(images.NEXTCLOUD_EXPORTER),
            "affinity": arch_affinity(exporter_arches),
        },
    }


def mail_values(mail: Mail | None) -> dict[str, Any]:
    """`nextcloud.mail`: an empty host leaves Nextcloud's mail settings alone."""
    if mail is None:
        return {
            "host": "",
            "port": DEFAULT_SMTP_PORT,
            "secure": "",
            "fromAddress": "",
            "domain": "",
            "existingSecret": "",
        }
    return {
        "host": mail.host,
        "port": mail.port,
        "secure": "ssl" if mail.port == SMTPS_PORT else "",
        "fromAddress": mail.from_address,
        "domain": mail.domain,
        "existingSecret": mail.secret or "",
    }


def backup_values(dc: Datacenter, service: NextcloudService) -> dict[str, Any]:
    backup = service.backup
    if backup is None:
        return {"enabled": False}
    storage = dc.storage_class(backup.storage.storage_class)
    node = storage.local.node if storage and storage.local else None
    return {
        "enabled": True,
        "schedule": backup.schedule,
        "keep": backup.keep,
        "persistence": {
            "storageClass": storage.name if storage else "",
            "size": backup.storage.size,
        },
        "affinity": node_affinity(service.architectures, node),
        "resources": resource_block(BACKUP_RESOURCES),
    }


def _plain(value: ConfigValue) -> Any:
    """A config value as values.yaml data (a list, not a tuple)."""
    return list(value) if isinstance(value, tuple) else value


def release_timeout() -> str:
    """helm's --timeout for a Nextcloud release: the upgrade Job's budget and a margin."""
    seconds = UPGRADE_WAIT_SECONDS + UPGRADE_WORK_SECONDS + UPGRADE_MARGIN_SECONDS
    return f"{-(-seconds // 60)}m"


def php_bytes(shorthand: str) -> int:
    """'512M' -> 536870912: PHP's shorthand, as the schema admits it (digits, K, M or G)."""
    unit = shorthand[-1:].upper() if shorthand[-1:].isalpha() else ""
    return int(shorthand[: len(shorthand) - len(unit)]) * _PHP_UNITS[unit]


def fpm_children(memory_limit: Fraction, php_memory_limit: int) -> int:
    """How many FPM workers the container's memory limit holds: besides FPM_FIXED_MEMORY, one
    request may grow to PHP's memory_limit while the others hold FPM_WORKER_MEMORY each (more
    at once would have the container killed for memory); at most MAX_FPM_CHILDREN. 0 when not
    even one request at memory_limit fits."""
    room = memory_limit - FPM_FIXED_MEMORY - php_memory_limit
    if room < 0:
        return 0
    return min(MAX_FPM_CHILDREN, 1 + int(room // FPM_WORKER_MEMORY))


def fpm_memory_needed(php_memory_limit: int) -> int:
    """The smallest container memory limit that holds MIN_FPM_CHILDREN workers."""
    return FPM_FIXED_MEMORY + php_memory_limit + (MIN_FPM_CHILDREN - 1) * FPM_WORKER_MEMORY


def fpm_pool(memory_limit: Fraction, php_memory_limit: int) -> dict[str, int]:
    """pm.* of the FPM pool: children from the container's memory limit (fpm_children; the
    build refuses fewer than MIN_FPM_CHILDREN), spare counts in between."""
    children = max(1, fpm_children(memory_limit, php_memory_limit))
    min_spare = max(1, children // 8)
    start = max(min_spare, children // 4)
    return {
        "maxChildren": children,
        "startServers": start,
        "minSpareServers": min_spare,
        "maxSpareServers": max(start, children // 2),
    }


def postgres_connections(service: NextcloudService) -> int:
    """max_connections: one per FPM worker of every pod at full scale, and a few more."""
    children = fpm_children(service.resources.memory_value, service.php.memory_limit_bytes)
    return max(1, children) * service.peak_replicas + POSTGRES_SPARE_CONNECTIONS


def postgres_resources(service: NextcloudService) -> Resources:
    """PostgreSQL's memory from its connections (rounded up to 64Mi): the default stack
    (5 workers, 1 pod) gets 384Mi."""
    needed = POSTGRES_BASE_MEMORY + postgres_connections(service) * POSTGRES_MEMORY_PER_CONNECTION
    step = 64 * _MI
    return Resources(cpu=POSTGRES_CPU, memory=f"{-(-needed // step) * step // _MI}Mi")


def credentials_architectures(dc: Datacenter, service: NextcloudService) -> list[Arch]:
    """Where the kubectl hook Job may run: the service's architectures the image has, else
    any schedulable node's the image has (the Job is not part of the service's workload)."""
    platforms = images.KUBECTL.platforms
    wanted = [arch for arch in service.architectures if arch in platforms]
    return wanted or usable_architectures(dc.pod_nodes, platforms)


def name_prefix(service_name: str) -> str:
    """The chart's `nextcloud.prefix` helper, for the fullnameOverride a service's chart gets."""
    return objects_name(service_name, BLUEPRINT)[:_PREFIX_LENGTH].rstrip("-")


def data_claim_name(service_name: str) -> str:
    return f"{name_prefix(service_name)}-data"


def database_claim_name(service_name: str) -> str:
    """The claim of the StatefulSet's volumeClaimTemplate `data`, pod 0."""
    return f"data-{name_prefix(service_name)}-postgresql-0"


def backup_claim_name(service_name: str) -> str:
    """The claim of the backup CronJob's dumps."""
    return f"{name_prefix(service_name)}-backup"


def nextcloud_version(tag: str) -> str:
    """'31.0.9-fpm' -> '31.0.9' (a tag without a variant is kept whole)."""
    return tag.split("-", 1)[0] or tag


def _claim(
    service: NextcloudService,
    name: str,
    volume: Volume,
    dc: Datacenter,
    access_mode: AccessMode = "ReadWriteOnce",
) -> Claim | None:
    storage = dc.storage_class(volume.storage_class)
    if storage is None:
        return None
    return Claim(
        namespace=service.namespace,
        name=name,
        storage_class=storage.name,
        size=volume.size,
        access_mode=access_mode,
    )


def _image(image: images.Image) -> dict[str, str]:
    return {"repository": image.repository, "tag": image.tag}


def rules(dc: Datacenter, service: NextcloudService, doc: Document) -> Iterator[Problem]:
    yield from _credentials_job_schedulable(dc, service, doc)
    yield from _scaling(dc, service, doc)
    yield from _database_storage(dc, service, doc)
    yield from _route(service, doc)
    yield from _owned_config_keys(service, doc)
    yield from _php_memory(service, doc)


def _credentials_job_schedulable(
    dc: Datacenter, service: NextcloudService, doc: Document
) -> Iterator[Problem]:
    """The chart creates its credentials with a kubectl Job, whose image is published for fewer
    architectures than the stack's own images."""
    platforms = images.KUBECTL.platforms
    if not dc.pod_nodes or any(node.arch in platforms for node in dc.pod_nodes):
        return  # no schedulable node at all is rule 5's error
    if service.replicas > 0:
        wanted = " or ".join(arch for arch in ARCHES if arch in platforms)
        yield error_at(
            doc,
            service_path(service),
            f'the credentials of "{service.name}" are created by a Job running '
            f"{images.KUBECTL.repository}, published for {wanted} only: "
            f"no schedulable node has one of those architectures",
        )


# Rule 6
def _scaling(dc: Datacenter, service: NextcloudService, doc: Document) -> Iterator[Problem]:
    if service.peak_replicas <= 1:
        return
    storage = dc.storage_class(service.storage.storage_class)
    if storage is not None and not storage.read_write_many:
        path = service_path(service, "storage", "class")
        if service.storage.storage_class is None:
            path = service_path(service, "storage")
        yield error_at(
            doc,
            path,
            f'"{storage.name}" is a {storage.type} class (ReadWriteOnce only); '
            f"{service.peak_replicas} replicas share their data volume and need "
            "ReadWriteMany (an nfs class)",
        )
    if not service.redis:
        yield error_at(
            doc,
            service_path(service, "redis"),
            "must not be false with more than one replica: sessions and file locks "
            "are shared through Redis",
        )


def _database_storage(
    dc: Datacenter, service: NextcloudService, doc: Document
) -> Iterator[Problem]:
    if service.replicas == 0:
        return
    storage = dc.storage_class(service.database_storage.storage_class)
    if service.peak_replicas > 1:
        where = f' on node "{storage.local.node}"' if storage and storage.local else ""
        yield warning_at(
            doc,
            service_path(service, "database"),
            f'the PostgreSQL of "{service.name}" runs one instance{where}: a single point '
            f"of failure behind its {service.peak_replicas} replicas",
            "single-point-of-failure-database",
        )
    if storage is not None and storage.type == "nfs":
        yield warning_at(
            doc,
            service_path(service, "database", "storage"),
            f'PostgreSQL data on NFS class "{storage.name}": NFS locking and fsync '
            "semantics risk corruption and slow the database; prefer a local class",
            "database-on-nfs",
        )


def _route(service: NextcloudService, doc: Document) -> Iterator[Problem]:
    if service.expose is None:
        return
    if service.expose.host is not None:
        yield error_at(
            doc,
            service_path(service, "expose", "host"),
            f'a Nextcloud is routed at its `host` ("{service.host}"): remove expose.host',
        )
    if service.route_path != "/":
        yield error_at(
            doc,
            service_path(service, "expose", "path"),
            "Nextcloud is served at the root of its host: give it a host of its own",
        )


def _owned_config_keys(service: NextcloudService, doc: Document) -> Iterator[Problem]:
    """`config` adds keys; one that chartgen (or the installer, or occ) writes would fight it."""
    for key in service.config:
        instead = OWNED_CONFIG_KEYS.get(key)
        if instead is None:
            continue
        path = service_path(service, "config", key)
        line, column = doc.key_position(path)
        yield Problem(
            line,
            column,
            format_path(path),
            f'"{key}" cannot be set in config: {instead}',
            file=doc.source,
        )


def _php_memory(service: NextcloudService, doc: Document) -> Iterator[Problem]:
    """PHP's memory_limit against the FPM container's memory limit (see fpm_children)."""
    entry = doc.data["services"][service.index]
    php = entry.get("php", {})
    limit = service.php.memory_limit_bytes
    if limit < MIN_PHP_MEMORY_LIMIT:
        yield error_at(
            doc,
            service_path(service, "php", "memoryLimit"),
            f'"{service.php.memory_limit}" is below 128M, with which Nextcloud does not run '
            "(it asks for 512M)",
        )
        return
    children = fpm_children(service.resources.memory_value, limit)
    if children >= MIN_FPM_CHILDREN:
        return
    if "memoryLimit" in php:
        path = service_path(service, "php", "memoryLimit")
    elif "memory" in entry.get("resources", {}):
        path = service_path(service, "resources", "memory")
    else:
        path = service_path(service)
    yield error_at(
        doc,
        path,
        f"PHP's memory_limit {service.php.memory_limit} leaves room for {children} PHP-FPM "
        f"worker{'' if children == 1 else 's'} in the container's {service.resources.memory}: "
        f"{MIN_FPM_CHILDREN} need {format_memory(Fraction(fpm_memory_needed(limit)))} (OPcache, "
        f"APCu and FPM {FPM_FIXED_MEMORY // _MI}Mi, one request at memory_limit, the others at "
        f"{FPM_WORKER_MEMORY // _MI}Mi); raise resources.memory or lower php.memoryLimit",
    )


KIND = Kind(
    name="nextcloud",
    schema=schema_fragment("nextcloud"),
    images=(images.NEXTCLOUD, images.HTTPD, images.NGINX, images.POSTGRES, images.REDIS),
    default_resources=DEFAULT_RESOURCES,
    build=build,
    chart_source=chart_source,
    pod_security=pod_security,
    rules=rules,
    workload_requests=workload_requests,
    main_pod=main_pod,
    volumes=volumes,
    main_volumes=main_volumes,
    describe=describe,
    known_repositories=KNOWN_REPOSITORIES,
    guarded=guarded,
)
