"""The newcomer's path on a machine with Python and make only: a fresh clone, `make install`,
then chartgen from PATH, with helm beside it and no development tools.

Slow for a unit test (a virtualenv and pip from PyPI, ~40 s), so it is one test doing the
whole path once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done


def test_make_install_from_a_fresh_clone(tmp_path: Path) -> None:
    clone, prefix, work = tmp_path / "clone", tmp_path / "prefix", tmp_path / "work"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    # What a user has: python3 and make, no chartgen variables, no checkout tools folder.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CHARTGEN_", "VIRTUAL_ENV", "PYTHON"))
    }
    env["PATH"] = os.pathsep.join(
        part for part in env["PATH"].split(os.pathsep) if ".venv" not in part
    )
    installed = _run(["make", "install", f"PREFIX={prefix}"], clone, env)
    assert f"installed {prefix}/bin/chartgen" in installed.stdout
    assert f'export PATH="{prefix}/bin:$PATH"' in installed.stdout  # prefix/bin is not on PATH
    env["PATH"] = f"{prefix / 'bin'}{os.pathsep}{env['PATH']}"
    chartgen = shutil.which("chartgen", path=env["PATH"])
    assert chartgen == str(prefix / "bin" / "chartgen")
    version = _run(["chartgen", "--version"], tmp_path, env).stdout.splitlines()
    assert version[0] == "chartgen 0.1.0"
    assert version[1].endswith(f"({prefix}/share/chartgen/venv/bin/helm, from chartgen's folder)")
    work.mkdir()
    _run(["chartgen", "init"], work, env)
    built = _run(["chartgen", "build"], work, env)
    assert "generated:" in built.stdout
    assert (work / "generated" / "releases.yaml").is_file()
    # chartgen alone: its runtime dependencies, none of the development tools.
    python = prefix / "share" / "chartgen" / "venv" / "bin" / "python"
    for tool in ("pytest", "mypy", "ruff", "hypothesis"):
        probe = subprocess.run([str(python), "-c", f"import {tool}"], capture_output=True)
        assert probe.returncode != 0, f"{tool} is installed with chartgen"


def test_every_package_of_chartgen_is_installed() -> None:
    """setuptools installs the packages pyproject.toml lists, and only those."""
    import tomllib

    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "chartgen").rglob("__init__.py")
    }
    assert found <= listed
