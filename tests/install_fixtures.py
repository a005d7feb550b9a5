"""Fixtures of the install tests: a throwaway PostgreSQL for helm's release records, the
emulated cluster, and the root datacenter's tree built once.

helm's default storage (Secrets) sends protobuf, which the emulator cannot read, so helm keeps
its records in PostgreSQL (`HELM_DRIVER=sql`). The server runs from a temporary folder on a
free loopback port for the whole session, as the `postgres` user when the suite runs as root
(initdb refuses root); every test gets a database and an emulator of its own.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from chartgen.cli import main
from chartgen.platform_pins import PINS
from chartgen.tools import find_helm
from tests.chart_repository import KNOWN_CRDS, ChartRepository, StandInChart, start_repository
from tests.conftest import CASES
from tests.kube_emulator import EmulatedCluster, start_cluster

_DATABASES = itertools.count(1)


@dataclass(frozen=True)
class Postgres:
    port: int
    bin_dir: Path
    user: str | None  # the system user the server runs as (None: the current one)

    def run(self, *argv: str) -> None:
        subprocess.run(
            [str(self.bin_dir / argv[0]), *argv[1:]],
            check=True,
            capture_output=True,
            user=self.user,
            timeout=60,
        )

    def new_database(self) -> str:
        name = f"helm{next(_DATABASES)}"
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}?sslmode=disable"


def _postgres_bin_dir() -> Path:
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    # Debian keeps the server programs out of PATH, one folder per major version.
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not candidates:
        raise RuntimeError("PostgreSQL not found: `make test` installs the Debian package")
    return candidates[-1].parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="chartgen-pg-"))
    if user is not None:
        shutil.chown(root, user, user)
    server = Postgres(_free_port(), _postgres_bin_dir(), user)
    data = root / "data"
    server.run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    settings = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    server.run("pg_ctl", "-D", str(data), "-o", settings, "-l", str(root / "log"), "-w", "start")
    try:
        yield server
    finally:
        server.run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def helm_env(postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """helm's environment for one test: a fresh database, and its own config and cache."""
    env = {
        "HELM_DRIVER": "sql",
        "HELM_DRIVER_SQL_CONNECTION_STRING": postgres.new_database(),
        "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
        "HELM_DATA_HOME": str(tmp_path / "helm-data"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HELM_KUBECONTEXT", raising=False)
    # helm creates its tables on first use, before it contacts any cluster, and several helm
    # commands doing it at once on an empty database race: one command does it first (that
    # it then finds no cluster does not matter).
    primed = subprocess.run(
        [str(find_helm().path), "list", "--output", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": str(tmp_path / "no-cluster")},
        timeout=60,
        check=False,
    )
    assert "SQL driver" not in primed.stderr, primed.stderr
    return env


StartCluster = Callable[..., EmulatedCluster]


@pytest.fixture
def start_emulated(
    helm_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StartCluster]:
    """Starts an emulated cluster (kinds in `refused` are rejected; no metrics API when
    `metrics_api=False`), KUBECONFIG pointing at it; stopped after the test."""
    started: list[EmulatedCluster] = []

    def start(refused: set[str] | None = None, metrics_api: bool = True) -> EmulatedCluster:
        emulated = start_cluster(tmp_path / f"kubeconfig{len(started)}", refused, metrics_api)
        started.append(emulated)
        monkeypatch.setenv("KUBECONFIG", str(emulated.kubeconfig))
        return emulated

    try:
        yield start
    finally:
        for emulated in started:
            emulated.stop()


@pytest.fixture
def cluster(start_emulated: StartCluster) -> EmulatedCluster:
    """A fresh emulated cluster that accepts everything."""
    return start_emulated()


def build_tree(source_text: str, directory: Path) -> Path:
    """`chartgen build` of a datacenter.yaml text into DIRECTORY (the same for every test)."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory.parent / f"{directory.name}.yaml"
    source.write_text(source_text)
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(directory / "tree")])
    assert result.exit_code == 0, result.output
    return directory / "tree"


# The proof of concept without a platform layer: the services' own releases (the platform's
# upstream charts are in tests/test_install_platform.py).
PROOF_OF_CONCEPT = CASES / "valid" / "mytinydc" / "datacenter.yaml"


@pytest.fixture(scope="session")
def root_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The proof of concept's datacenter.yaml, built."""
    folder = tmp_path_factory.mktemp("root-tree")
    return build_tree(PROOF_OF_CONCEPT.read_text(), folder / "dc")


ServeCharts = Callable[..., ChartRepository]


@pytest.fixture
def chart_repository(tmp_path: Path) -> Iterator[ServeCharts]:
    """Serves a chart repository on loopback: `chart_repository([StandInChart(...), ...])`
    returns it (`.url` for `helm --repo`, `.publish(...)` to add versions, `.served` the paths
    helm asked for); each one is stopped after the test."""
    started: list[ChartRepository] = []

    def serve(charts: Sequence[StandInChart] = ()) -> ChartRepository:
        repository = start_repository(tmp_path / f"chart-repository{len(started)}", charts)
        started.append(repository)
        return repository

    try:
        yield serve
    finally:
        for repository in started:
            repository.stop()


def _safe_yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    return yaml


def stand_ins(tree: Path, bump: str = "", without_crds: bool = False) -> list[StandInChart]:
    """One stand-in per repository release of TREE (its version suffixed with BUMP)."""
    document = _safe_yaml().load((tree / "releases.yaml").read_text())
    charts = []
    for entry in document["releases"]:
        if "repository" not in entry:
            continue
        crds: tuple[Any, ...] = ()
        if not without_crds:
            needed = {crd for other in document["releases"] for crd in other.get("crds", [])}
            crds = tuple(KNOWN_CRDS[name] for name in sorted(needed) if _brings(entry, name))
        charts.append(StandInChart(entry["chart"], entry["version"] + bump, crds))
    return charts


def _brings(entry: dict[str, Any], crd: str) -> bool:
    return any(pin.chart == entry["chart"] and crd in pin.crds for pin in PINS if pin.crds)


def point_releases_at(tree: Path, repository: ChartRepository, bump: str = "") -> None:
    """The tree's repository releases, from the loopback repository (at VERSION+BUMP)."""
    path = tree / "releases.yaml"
    document = _safe_yaml().load(path.read_text())
    for entry in document["releases"]:
        if "repository" in entry:
            entry["repository"] = repository.url
            entry["version"] += bump
    with path.open("w") as stream:
        _safe_yaml().dump(document, stream)
