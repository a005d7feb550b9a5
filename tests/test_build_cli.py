"""`chartgen build` through the CLI: messages and exit codes of write, --check and --force."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from chartgen import images
from chartgen.cli import main
from tests.conftest import REPO

SOURCE = str(REPO / "datacenter.yaml")


def _build(runner: CliRunner, out: Path, *options: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["build", SOURCE, "-o", str(out), *options])
    return result.exit_code, result.stdout, result.stderr


def test_build_then_check_then_no_op(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    code, stdout, _ = _build(runner, out)
    assert code == 0
    assert stdout.startswith(f"{out}: ") and "written, 0 pruned, 0 unchanged" in stdout
    assert _build(runner, out, "--check")[:2] == (0, f"{out} is up to date\n")
    assert _build(runner, out)[:2] == (0, f"{out} is up to date\n")


def test_check_lists_what_differs_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    _build(runner, out)
    (out / "releases.yaml").write_text("edited\n")
    (out / "charts" / "web" / "Chart.yaml").unlink()
    code, stdout, stderr = _build(runner, out, "--check")
    assert code == 1
    assert stdout == ""
    assert f"{out / 'charts/web/Chart.yaml'}: missing\n" in stderr
    assert f"{out / 'releases.yaml'}: edited by hand\n" in stderr
    assert stderr.endswith(f"chartgen: {out} is not what `chartgen build {SOURCE}` writes\n")


def test_check_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert _build(runner, out, "--check")[0] == 1
    assert not out.exists()


def test_a_hand_edit_needs_force(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    _build(runner, out)
    values = out / "charts" / "web" / "values.yaml"
    original = values.read_text()
    values.write_text(original + "# my tweak\n")
    code, _, stderr = _build(runner, out)
    assert code == 1
    assert f"{values}: edited by hand since chartgen wrote it" in stderr
    assert "Traceback" not in stderr
    assert values.read_text().endswith("# my tweak\n")
    code, stdout, _ = _build(runner, out, "--force")
    assert code == 0
    assert "1 written" in stdout
    assert values.read_text() == original


def test_a_removed_service_is_pruned(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    _build(runner, out)
    text = (REPO / "datacenter.yaml").read_text()
    smaller = text[: text.index("  - name: cloud\n")]
    smaller = smaller.replace("storage:\n  - name: nfs", "storage:\n  - name: nfs", 1)
    source = tmp_path / "datacenter.yaml"
    source.write_text(smaller)
    result = runner.invoke(main, ["build", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert not (out / "charts" / "cloud").exists()
    assert (out / "charts" / "web" / "Chart.yaml").is_file()


def _nextcloud_at(tmp_path: Path, tag: str | None) -> str:
    """The repository's datacenter.yaml, its Nextcloud pinned to TAG (None: chartgen's pin)."""
    text = (REPO / "datacenter.yaml").read_text()
    if tag is not None:
        pin = f"    image: {{repository: docker.io/library/nextcloud, tag: {tag}}}\n"
        text = text.replace("    type: nextcloud\n", "    type: nextcloud\n" + pin, 1)
    source = tmp_path / f"datacenter-{tag}.yaml"
    source.write_text(text)
    return str(source)


def _build_from(runner: CliRunner, source: str, out: Path, *options: str) -> tuple[int, str]:
    result = runner.invoke(main, ["build", source, "-o", str(out), *options])
    return result.exit_code, result.stderr


def _cni_warning(source: str) -> str:
    """The example's first warning: flannel does not enforce the charts' NetworkPolicies."""
    return (
        f"{source}:13:8: warning: cluster.cni: flannel enforces no NetworkPolicy, and the charts "
        'rely on theirs: any pod of the cluster can reach the PostgreSQL and Redis of "cloud"; '
        'and every port of the pods of "web". Choose calico or cilium to enforce them\n'
    )


def _spof_warning(source: str, line: int) -> str:
    """The single PostgreSQL, whose `database` key is at LINE."""
    return (
        f'{source}:{line}:7: warning: services[1].database: the PostgreSQL of "cloud" runs one '
        'instance on node "worker2": a single point of failure behind its 2 replicas\n'
    )


def _app_version(out: Path) -> str:
    chart = (out / "charts" / "cloud" / "Chart.yaml").read_text()
    return next(line for line in chart.splitlines() if line.startswith("appVersion:"))


def test_nextcloud_moves_one_major_version_at_a_time(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert _build_from(runner, _nextcloud_at(tmp_path, "30.0.16-fpm"), out)[0] == 0
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    source = _nextcloud_at(tmp_path, "32.0.0-fpm")
    code, stderr = _build_from(runner, source, out)
    assert code == 1
    assert stderr == _cni_warning(source) + (
        f"{source}:33:12: services[1].image: Nextcloud 30.0.16 runs from "
        f"{out}/charts/cloud; 32.0.0 skips a major version, and Nextcloud upgrades one major "
        "version at a time (30 -> 31). First pin the last 31 release in this service "
        '(`image: {repository: docker.io/library/nextcloud, tag: "31.x.y-fpm"}`), build, '
        "install and let the upgrade finish; then move on to 32.0.0. A deliberate jump: "
        "--allow-version-jump\n" + _spof_warning(source, 39)
    )
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before

    # One major step is the way: accepted.
    code, stderr = _build_from(runner, _nextcloud_at(tmp_path, "31.0.9-fpm"), out)
    assert code == 0, stderr
    assert _app_version(out) == 'appVersion: "31.0.9"'
    # chartgen's own pin counts the same way, as does a patch release.
    assert _build_from(runner, _nextcloud_at(tmp_path, None), out)[0] == 0
    assert _build_from(runner, source, out)[0] == 0
    assert _app_version(out) == 'appVersion: "32.0.0"'


def test_nextcloud_never_goes_back(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert _build_from(runner, _nextcloud_at(tmp_path, None), out)[0] == 0
    source = _nextcloud_at(tmp_path, "31.0.8-fpm")
    code, stderr = _build_from(runner, source, out)
    assert code == 1
    assert stderr == _cni_warning(source) + (
        f"{source}:33:12: services[1].image: Nextcloud 31.0.9 runs from "
        f"{out}/charts/cloud; 31.0.8 is older, and Nextcloud does not start over data that a "
        "newer version upgraded. Keep 31.0.9 (`image: {repository: "
        'docker.io/library/nextcloud, tag: "31.0.9-fpm"}`), or restore a backup made by '
        "31.0.8 (`chartgen restore cloud DUMP`) after a build with --allow-version-jump\n"
        + _spof_warning(source, 39)
    )
    assert _app_version(out) == 'appVersion: "31.0.9"'
    code, stderr = _build_from(runner, source, out, "--allow-version-jump")
    assert code == 0, stderr
    assert _app_version(out) == 'appVersion: "31.0.8"'


def test_a_postgresql_major_change_needs_a_dump_and_restore(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "generated"
    source = _nextcloud_at(tmp_path, None)
    assert _build_from(runner, source, out)[0] == 0
    # The tree an earlier chartgen wrote, when its PostgreSQL pin was 16.
    values = out / "charts" / "cloud" / "values.yaml"
    text = values.read_text()
    pinned = f'    tag: "{images.POSTGRES.tag}"\n'
    assert text.count(pinned) == 1
    values.write_text(text.replace(pinned, "    tag: '16.10'\n"))
    code, stderr = _build_from(runner, source, out)
    assert code == 1
    assert stderr == _cni_warning(source) + (
        f"{source}:31:5: services[1]: PostgreSQL 16.10 holds the database of "
        f"{out}/charts/cloud; {images.POSTGRES.tag} is another major version and does not read "
        "its data files. Dump the database (`chartgen backup cloud`), build with "
        "--allow-version-jump, delete the claim data-cloud-postgresql-0 so that "
        f"{images.POSTGRES.tag} starts empty, install, then load the dump "
        "(`chartgen restore cloud DUMP`)\n" + _spof_warning(source, 38)
    )
    assert "'16.10'" in values.read_text()
    code, stderr = _build_from(runner, source, out, "--allow-version-jump", "--force")
    assert code == 0, stderr
    assert pinned in values.read_text()
