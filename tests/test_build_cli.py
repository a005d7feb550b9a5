"""`chartgen build` through the CLI: messages and exit codes of write, --check and --force."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

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
