"""The configuration files the charts ship, checked by the real programs from Debian's packages.

nginx server blocks (nginx chart, Nextcloud's nginx front) by `nginx -t`, the Apache virtual host
(mod_proxy_fcgi to PHP-FPM) by `apache2 -t`, the PHP-FPM pool and php.ini by `php-fpm8.2 -t`
(and php.ini read back by php8.2). The nginx chart's server block is also served by a real nginx
on a loopback port. The programs come from scripts/debian-packages.txt, installed by `make test`:
a missing one is a failure, never a skip.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rendered_manifests import SAMPLED, VALID, Release, render_case

CASES = [case for case in VALID if case.name not in SAMPLED]
PACKAGES = "scripts/debian-packages.txt (installed by `make test` or scripts/system_packages.sh)"


def program(name: str, *candidates: str) -> str:
    for path in (shutil.which(name), *candidates):
        if path and Path(path).is_file():
            return path
    pytest.fail(f"{name} is not installed: it comes from a Debian package listed in {PACKAGES}")


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> list[Release]:
    found: list[Release] = []
    for case in CASES:
        found.extend(render_case(case, tmp_path_factory.mktemp(case.name) / "generated"))
    return found


def configmaps(releases: list[Release], chart: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(release id, ConfigMap data) of every ConfigMap of the releases of one chart."""
    for release in releases:
        for item in release.objects:
            labels = item["metadata"].get("labels") or {}
            if item["kind"] == "ConfigMap" and labels.get("app.kubernetes.io/name") == chart:
                yield f"{release.case}/{release.name}/{item['metadata']['name']}", item["data"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False, env=env)


# --- nginx ------------------------------------------------------------------------------------


def nginx_frame(folder: Path, server_blocks: Path) -> Path:
    """The parts of nginx-unprivileged's nginx.conf around conf.d, with paths under `folder`."""
    main = folder / "nginx.conf"
    # As root (CI), workers would switch to `nobody`, who cannot read the pytest folders.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    main.write_text(
        f"{user}"
        f"pid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log;\n"
        "worker_processes 1;\n"
        "events {}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        f"    client_body_temp_path {folder}/client_temp;\n"
        f"    proxy_temp_path {folder}/proxy_temp;\n"
        f"    fastcgi_temp_path {folder}/fastcgi_temp;\n"
        f"    uwsgi_temp_path {folder}/uwsgi_temp;\n"
        f"    scgi_temp_path {folder}/scgi_temp;\n"
        f"    access_log {folder}/access.log;\n"
        f"    include {server_blocks}/*.conf;\n"
        "}\n",
        encoding="utf-8",
    )
    return main


def test_nginx_chart_server_blocks_pass_nginx_t(releases: list[Release], tmp_path: Path) -> None:
    nginx = program("nginx", "/usr/sbin/nginx")
    checked = 0
    for where, data in configmaps(releases, "nginx"):
        if "default.conf" not in data:
            continue  # a user's site
        folder = tmp_path / where.replace("/", "__")
        (folder / "conf.d").mkdir(parents=True)
        (folder / "conf.d" / "default.conf").write_text(data["default.conf"], encoding="utf-8")
        main = nginx_frame(folder, folder / "conf.d")
        done = run(nginx, "-t", "-p", str(folder), "-c", str(main))
        assert done.returncode == 0, f"{where}: {done.stderr}"
        assert "syntax is ok" in done.stderr
        checked += 1
    assert checked >= 10


def test_nextcloud_nginx_fronts_pass_nginx_t(releases: list[Release], tmp_path: Path) -> None:
    nginx = program("nginx", "/usr/sbin/nginx")
    checked = 0
    for where, data in configmaps(releases, "nextcloud"):
        if "nginx.conf" not in data:
            continue
        conf = tmp_path / f"{where.replace('/', '__')}.conf"
        conf.write_text(data["nginx.conf"], encoding="utf-8")
        done = run(nginx, "-t", "-p", str(tmp_path), "-c", str(conf))
        assert done.returncode == 0, f"{where}: {done.stderr}"
        checked += 1
    assert checked >= 1


def test_nginx_t_rejects_a_broken_server_block(tmp_path: Path) -> None:
    """The check above can fail: nginx -t does reject a server block it cannot load."""
    nginx = program("nginx", "/usr/sbin/nginx")
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "default.conf").write_text("server { listen 8080; bogus on; }\n")
    main = nginx_frame(tmp_path, tmp_path / "conf.d")
    done = run(nginx, "-t", "-p", str(tmp_path), "-c", str(main))
    assert done.returncode != 0
    assert "bogus" in done.stderr


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def fetch(url: str) -> tuple[int, str]:
    # No proxy: the server is on loopback, and the environment's proxy must not see it.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        return response.status, response.read().decode("utf-8")


def wait_for(port: int, server: subprocess.Popen[str], deadline: float) -> None:
    while time.monotonic() < deadline:
        assert server.poll() is None, f"nginx exited: {server.communicate()[1]}"
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nginx did not listen on 127.0.0.1:{port}")


def _served_root(release: Release, into: Path) -> dict[str, str]:
    """The web root of an nginx release's pod, as its `page` volume mounts it (the default
    page, or the user's site files mapped to their paths), written under `into`."""
    data = {
        item["metadata"]["name"]: item.get("data", {})
        for item in release.objects
        if item["kind"] == "ConfigMap"
    }
    deployment = next(item for item in release.objects if item["kind"] == "Deployment")
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    page = next(volume for volume in volumes if volume["name"] == "page")["configMap"]
    served = {}
    for entry in page["items"]:
        content = data[page["name"]][entry["key"]]
        (into / entry["path"]).parent.mkdir(parents=True, exist_ok=True)
        (into / entry["path"]).write_text(content, encoding="utf-8")
        served[entry["path"]] = content
    return served


def _nginx_release(releases: list[Release], case: str, name: str) -> Release:
    return next(r for r in releases if (r.case, r.name) == (case, name))


@pytest.mark.parametrize(
    ("case", "release"), [("mytinydc", "web"), ("app-workloads", "site")], ids=["default", "site"]
)
def test_nginx_serves_the_generated_page_and_healthz(
    releases: list[Release], tmp_path: Path, case: str, release: str
) -> None:
    """The default page, or the user's site files at their paths, and /healthz."""
    nginx = program("nginx", "/usr/sbin/nginx")
    chosen = _nginx_release(releases, case, release)
    where = f"{case}/{release}"
    data = next(data for name, data in configmaps([chosen], "nginx") if "default.conf" in data)
    port = free_loopback_port()
    html = tmp_path / "html"  # the web root, as the pod mounts it
    html.mkdir()
    served = _served_root(chosen, html)
    assert served, where
    if release == "web":
        assert list(served) == ["index.html"] and "<title>" in served["index.html"]
    else:
        assert served == {"index.html": "<h1>My lab</h1>\n", "css/site.css": "h1 { color: teal }\n"}
    block = data["default.conf"]
    assert len(re.findall(r"^\s*listen 8080;$", block, flags=re.MULTILINE)) == 1, block
    assert "root /usr/share/nginx/html;" in block
    block = block.replace("listen 8080;", f"listen 127.0.0.1:{port};").replace(
        "root /usr/share/nginx/html;", f"root {html};"
    )
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "default.conf").write_text(block, encoding="utf-8")
    main = nginx_frame(tmp_path, tmp_path / "conf.d")
    server = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(main), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(port, server, time.monotonic() + 10)
        for path, content in served.items():
            assert fetch(f"http://127.0.0.1:{port}/{path}") == (200, content), (where, path)
        assert fetch(f"http://127.0.0.1:{port}/") == (200, served["index.html"]), where
        assert fetch(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
        with pytest.raises(urllib.error.HTTPError) as missing:
            fetch(f"http://127.0.0.1:{port}/nothing-here")
        assert missing.value.code == 404
        missing.value.close()
    finally:
        server.terminate()
        server.communicate(timeout=10)
    assert server.returncode is not None


# --- Apache -----------------------------------------------------------------------------------


def test_nextcloud_apache_fronts_pass_apache2_t(releases: list[Release], tmp_path: Path) -> None:
    apache = program("apache2", "/usr/sbin/apache2")
    modules = Path("/usr/lib/apache2/modules")
    checked = 0
    for where, data in configmaps(releases, "nextcloud"):
        if "httpd.conf" not in data:
            continue
        root = tmp_path / where.replace("/", "__")
        (root / "conf").mkdir(parents=True)
        (root / "html").mkdir()
        shutil.copy("/etc/mime.types", root / "conf" / "mime.types")
        (root / "modules").symlink_to(modules)
        conf = data["httpd.conf"]
        # The modules the virtual host needs are loaded from Debian's build of the same ones.
        for module in re.findall(r"^LoadModule \w+ modules/(\S+)$", conf, flags=re.MULTILINE):
            assert (modules / module).is_file() or module in _BUILT_IN, module
        lines = [
            line.replace('"/usr/local/apache2"', f'"{root}"').replace(
                "/var/www/html", str(root / "html")
            )
            for line in conf.splitlines()
            if not any(f"modules/{module}" in line for module in _BUILT_IN)
        ]
        assert any("mod_proxy_fcgi.so" in line for line in lines)
        (root / "httpd.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
        done = run(apache, "-t", "-f", str(root / "httpd.conf"))
        assert done.returncode == 0, f"{where}: {done.stderr}"
        assert "Syntax OK" in done.stderr
        checked += 1
    assert checked >= 1


# Debian's apache2 builds these in; the official httpd image loads them as modules.
_BUILT_IN = ("mod_unixd.so", "mod_log_config.so")


# --- PHP-FPM ----------------------------------------------------------------------------------


def fpm_frame(folder: Path, pool: Path) -> Path:
    """The official image's php-fpm.conf and www.conf around chartgen's pool file."""
    conf = folder / "php-fpm.conf"
    conf.write_text(
        "[global]\n"
        f"pid = {folder}/php-fpm.pid\n"
        f"error_log = {folder}/php-fpm.log\n"
        "daemonize = no\n"
        "[www]\n"
        "user = www-data\n"
        "group = www-data\n"
        "listen = 127.0.0.1:9000\n"
        "pm = dynamic\n"
        "pm.max_children = 5\n"
        "pm.start_servers = 2\n"
        "pm.min_spare_servers = 1\n"
        "pm.max_spare_servers = 3\n"
        f"include = {pool}\n",
        encoding="utf-8",
    )
    return conf


def nextcloud_php_files(releases: list[Release], folder: Path) -> Iterator[tuple[str, Path, Path]]:
    for where, data in configmaps(releases, "nextcloud"):
        if "zz-chartgen.ini" not in data:
            continue
        here = folder / where.replace("/", "__")
        here.mkdir(parents=True)
        (here / "php.ini").write_text(data["zz-chartgen.ini"], encoding="utf-8")
        (here / "pool.conf").write_text(data["zz-chartgen.conf"], encoding="utf-8")
        yield where, here / "php.ini", here / "pool.conf"


def test_nextcloud_fpm_pool_and_php_ini_pass_php_fpm_t(
    releases: list[Release], tmp_path: Path
) -> None:
    fpm = program("php-fpm8.2", "/usr/sbin/php-fpm8.2")
    checked = 0
    for where, ini, pool in nextcloud_php_files(releases, tmp_path):
        done = run(fpm, "-t", "-c", str(ini), "-y", str(fpm_frame(pool.parent, pool)))
        assert done.returncode == 0, f"{where}: {done.stderr}"
        assert "test is successful" in done.stderr
        assert "Warning" not in done.stderr, done.stderr
        checked += 1
    assert checked >= 1


def test_php_reads_every_setting_of_the_php_ini(releases: list[Release], tmp_path: Path) -> None:
    """php-fpm -t accepts unknown keys silently: php itself must know every key we set."""
    php = program("php8.2", "/usr/bin/php8.2")
    checked = 0
    for where, ini, _pool in nextcloud_php_files(releases, tmp_path):
        settings = {
            key.strip(): value.strip()
            for key, _, value in (
                line.partition("=")
                for line in ini.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith(";")
            )
        }
        assert settings
        script = 'foreach (array_slice($argv, 1) as $k) { var_export(ini_get($k)); echo "\\n"; }'
        env = {**os.environ, "CHARTGEN_REDIS_PASSWORD": "secret"}
        done = run(php, "-c", str(ini), "-r", script, *settings, env=env)
        assert done.returncode == 0, done.stderr
        assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
        values = done.stdout.splitlines()
        unknown = [key for key, value in zip(settings, values, strict=True) if value == "false"]
        assert unknown == [], f"{where}: php does not know {unknown}"
        checked += 1
    assert checked >= 1


def test_php_fpm_t_rejects_a_broken_pool(tmp_path: Path) -> None:
    fpm = program("php-fpm8.2", "/usr/sbin/php-fpm8.2")
    pool = tmp_path / "pool.conf"
    pool.write_text("[www]\npm.max_children = many\n", encoding="utf-8")
    done = run(fpm, "-t", "-n", "-y", str(fpm_frame(tmp_path, pool)))
    assert done.returncode != 0
    assert "pm.max_children" in done.stderr
