"""The configuration files the charts ship, checked by the real programs from Debian's packages.

nginx server blocks (nginx chart, Nextcloud's nginx front) by `nginx -t`, the Apache virtual host
(mod_proxy_fcgi to PHP-FPM) by `apache2 -t`, the PHP-FPM pool and php.ini by `php-fpm8.2 -t`
(and php.ini read back by php8.2). The nginx chart's server block is also served by a real nginx
on a loopback port. The programs come from scripts/debian-packages.txt, installed by `make test`:
a missing one is a failure, never a skip.
"""

from __future__ import annotations

import http.client
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
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


def _image_fpm_config(folder: Path) -> Path:
    """The official php:*-fpm image's FPM configuration, under `folder`: php-fpm.conf includes
    php-fpm.d/*.conf (in name order), where the image puts docker.conf, www.conf (listen
    127.0.0.1:9000) and zz-docker.conf, whose `listen = 9000` opens FastCGI on every
    interface."""
    pool_dir = folder / "php-fpm.d"
    pool_dir.mkdir(parents=True)
    conf = folder / "php-fpm.conf"
    conf.write_text(
        f"[global]\npid = {folder}/php-fpm.pid\nerror_log = {folder}/php-fpm.log\n"
        f"include = {pool_dir}/*.conf\n",
        encoding="utf-8",
    )
    (pool_dir / "docker.conf").write_text("[www]\nclear_env = no\n", encoding="utf-8")
    (pool_dir / "www.conf").write_text(
        "[www]\nuser = www-data\ngroup = www-data\nlisten = 127.0.0.1:9000\npm = dynamic\n"
        "pm.max_children = 5\npm.start_servers = 2\npm.min_spare_servers = 1\n"
        "pm.max_spare_servers = 3\n",
        encoding="utf-8",
    )
    (pool_dir / "zz-docker.conf").write_text(
        "[global]\ndaemonize = no\n\n[www]\nlisten = 9000\n", encoding="utf-8"
    )
    return conf


def _effective_listen(fpm: str, conf: Path) -> list[str]:
    done = run(fpm, "-tt", "-n", "-y", str(conf))
    assert done.returncode == 0, done.stderr
    return re.findall(r"NOTICE: \s*listen = (\S+)$", done.stderr, flags=re.MULTILINE)


def test_nextcloud_fpm_listens_on_the_pod_loopback_only(
    releases: list[Release], tmp_path: Path
) -> None:
    """The pool file, at the path the Deployment mounts it, is read after the image's
    zz-docker.conf: `php-fpm -tt` prints the effective `listen`, 127.0.0.1:9000."""
    fpm = program("php-fpm8.2", "/usr/sbin/php-fpm8.2")
    control = _image_fpm_config(tmp_path / "image")
    assert _effective_listen(fpm, control) == ["9000"]  # the image alone: every interface
    checked = 0
    for release in releases:
        for item in release.objects:
            if item["kind"] != "Deployment" or item["metadata"]["name"] + "-web" not in {
                other["metadata"]["name"] for other in release.objects
            }:
                continue
            pod = item["spec"]["template"]["spec"]
            fpm_container = next(c for c in pod["containers"] if c["name"] == "nextcloud")
            mount = next(
                m for m in fpm_container["volumeMounts"] if m.get("subPath") == "zz-chartgen.conf"
            )
            path = Path(mount["mountPath"])
            assert path.parent == Path("/usr/local/etc/php-fpm.d"), mount
            data = next(
                data for _, data in configmaps([release], "nextcloud") if mount["subPath"] in data
            )
            folder = tmp_path / f"{release.case}__{release.name}"
            conf = _image_fpm_config(folder)
            (folder / "php-fpm.d" / path.name).write_text(data[mount["subPath"]], encoding="utf-8")
            assert _effective_listen(fpm, conf) == ["127.0.0.1:9000"], release.name
            checked += 1
    assert checked >= 1


# --- redirects of the Nextcloud fronts, served ----------------------------------------------

# Requests the nginx front answers with a redirect of its own (never reaching PHP): service
# discovery and the short /remote path.
_REDIRECTED = (
    "/.well-known/caldav",
    "/.well-known/carddav",
    "/.well-known/webfinger",
    "/.well-known/nodeinfo",
    "/remote/dav",
)


def _front_configs(releases: list[Release], key: str) -> Iterator[tuple[str, str, str, str]]:
    """(where, front config, Nextcloud's host, its external scheme) of every Nextcloud front
    configured as `key` (nginx.conf or httpd.conf)."""
    for release in releases:
        data = {
            item["metadata"]["name"]: item.get("data", {})
            for item in release.objects
            if item["kind"] == "ConfigMap"
        }
        fronts = [(name, d[key]) for name, d in data.items() if key in d]
        if not fronts:
            continue
        php = next(d["chartgen.config.php"] for d in data.values() if "chartgen.config.php" in d)
        host = re.search(r"'trusted_domains' => array\(\s*0 => '([^']+)'", php)
        scheme = re.search(r"'overwriteprotocol' => '(https?)'", php)
        assert host and scheme, php
        for name, conf in fronts:
            yield f"{release.case}/{name}", conf, host.group(1), scheme.group(1)


def _served_web_root(folder: Path) -> Path:
    """A web root the front's workers can read (they drop root to an unprivileged user), with
    a directory and the rewrites of Nextcloud's own .htaccess the Apache front relies on."""
    html = Path(tempfile.mkdtemp(prefix="chartgen-html-"))
    html.chmod(0o755)
    (html / "apps").mkdir()
    (html / "apps").chmod(0o755)
    (html / ".htaccess").write_text(
        "<IfModule mod_rewrite.c>\n"
        "  RewriteEngine on\n"
        "  RewriteRule ^\\.well-known/carddav /remote.php/dav/ [R=301,L]\n"
        "  RewriteRule ^\\.well-known/caldav /remote.php/dav/ [R=301,L]\n"
        "</IfModule>\n",
        encoding="utf-8",
    )
    (html / ".htaccess").chmod(0o644)
    (folder / "html-path").write_text(str(html), encoding="utf-8")
    return html


def _location(port: int, path: str, host: str) -> tuple[int, str]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        client.request("GET", path, headers={"Host": host})
        response = client.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        client.close()


def _assert_redirects_keep_the_client_url(
    where: str, port: int, host: str, scheme: str, paths: tuple[str, ...]
) -> int:
    checked = 0
    # As the router sends it, and as a client naming the container's port would.
    for sent_host in (host, f"{host}:8080"):
        for path in paths:
            status, location = _location(port, path, sent_host)
            assert status in (301, 302), (where, path, status)
            assert ":8080" not in location, (where, path, location)
            relative = location.startswith("/") and not location.startswith("//")
            assert relative or location.startswith(f"{scheme}://{host}/"), (where, path, location)
            checked += 1
    return checked


def _serve(args: list[str], port: int) -> subprocess.Popen[str]:
    server = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(port, server, time.monotonic() + 10)
    return server


def _stop(server: subprocess.Popen[str]) -> None:
    server.terminate()
    server.communicate(timeout=10)


def test_nextcloud_nginx_front_redirects_keep_the_client_url(
    releases: list[Release], tmp_path: Path
) -> None:
    """Served by Debian's nginx: no `http://host:8080/` in any Location (CalDAV and CardDAV
    discovery behind the router)."""
    nginx = program("nginx", "/usr/sbin/nginx")
    checked = 0
    for where, conf, host, scheme in _front_configs(releases, "nginx.conf"):
        folder = tmp_path / where.replace("/", "__")
        folder.mkdir()
        html = _served_web_root(folder)
        port = free_loopback_port()
        assert conf.count("listen 8080 default_server;") == 1
        served = (
            conf.replace("listen 8080 default_server;", f"listen 127.0.0.1:{port} default_server;")
            .replace("root /var/www/html;", f"root {html};")
            .replace("/tmp/", f"{folder}/")
        )
        if os.geteuid() == 0:
            served = "user nobody nogroup;\n" + served
        (folder / "nginx.conf").write_text(served, encoding="utf-8")
        server = _serve(
            [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"], port
        )
        try:
            checked += _assert_redirects_keep_the_client_url(where, port, host, scheme, _REDIRECTED)
        finally:
            _stop(server)
            shutil.rmtree(html)
    assert checked >= len(_REDIRECTED) * 2


def test_nextcloud_apache_front_redirects_keep_the_client_url(
    releases: list[Release], tmp_path: Path
) -> None:
    """Served by Debian's apache2, with the rewrites of Nextcloud's .htaccess: a redirect
    names the external scheme and host (https when TLS ends at the router), never :8080."""
    apache = program("apache2", "/usr/sbin/apache2")
    modules = Path("/usr/lib/apache2/modules")
    checked = 0
    schemes = set()
    for where, conf, host, scheme in _front_configs(releases, "httpd.conf"):
        root = tmp_path / where.replace("/", "__")
        (root / "conf").mkdir(parents=True)
        shutil.copy("/etc/mime.types", root / "conf" / "mime.types")
        (root / "modules").symlink_to(modules)
        html = _served_web_root(root)
        port = free_loopback_port()
        user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        lines = []
        for line in conf.splitlines():
            if any(f"modules/{module}" in line for module in _BUILT_IN):
                continue
            line = re.sub(r"^(DefaultRuntimeDir|PidFile) /tmp", rf"\1 {root}", line)
            line = line.replace('"/usr/local/apache2"', f'"{root}"')
            line = line.replace("/var/www/html", str(html))
            line = re.sub(r"^Listen 8080$", f"Listen 127.0.0.1:{port}", line)
            line = re.sub(r"^(User|Group) www-data$", rf"\1 {user}", line)
            lines.append(line)
        if os.geteuid() == 0:
            lines = [re.sub(r"^Group nobody$", "Group nogroup", line) for line in lines]
        (root / "httpd.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
        server = _serve([apache, "-X", "-f", str(root / "httpd.conf")], port)
        try:
            checked += _assert_redirects_keep_the_client_url(
                where, port, host, scheme, ("/.well-known/caldav", "/.well-known/carddav", "/apps")
            )
            status, location = _location(port, "/.well-known/caldav", host)
            assert location == f"{scheme}://{host}/remote.php/dav/", (where, status, location)
            schemes.add(scheme)
        finally:
            _stop(server)
            shutil.rmtree(html)
    assert "https" in schemes


def test_nextcloud_fpm_workers_fit_the_container_memory_limit(
    releases: list[Release], tmp_path: Path
) -> None:
    """What php-fpm and php really read (pm.max_children from `php-fpm -tt`, memory_limit from
    php.ini) against the FPM container's memory limit: one request at memory_limit and the
    other workers at their realistic size fit beside OPcache, APCu and the FPM master."""
    from chartgen.kinds.nextcloud import (
        FPM_FIXED_MEMORY,
        FPM_WORKER_MEMORY,
        MIN_FPM_CHILDREN,
        php_bytes,
    )
    from chartgen.quantity import parse_quantity

    fpm = program("php-fpm8.2", "/usr/sbin/php-fpm8.2")
    php = program("php8.2", "/usr/bin/php8.2")
    checked = 0
    for release in releases:
        deployments = [
            item
            for item in release.objects
            if item["kind"] == "Deployment"
            and any(
                c["name"] == "nextcloud" for c in item["spec"]["template"]["spec"]["containers"]
            )
        ]
        if not deployments:
            continue
        (deployment,) = deployments
        containers = deployment["spec"]["template"]["spec"]["containers"]
        limit = parse_quantity(
            next(c for c in containers if c["name"] == "nextcloud")["resources"]["limits"]["memory"]
        )
        ((where, ini, pool),) = list(nextcloud_php_files([release], tmp_path))
        done = run(fpm, "-tt", "-c", str(ini), "-y", str(fpm_frame(pool.parent, pool)))
        assert done.returncode == 0, done.stderr
        (children,) = re.findall(r"pm\.max_children = (\d+)$", done.stderr, flags=re.MULTILINE)
        env = {**os.environ, "CHARTGEN_REDIS_PASSWORD": "secret"}
        read = run(php, "-c", str(ini), "-r", 'echo ini_get("memory_limit");', env=env)
        assert read.returncode == 0, read.stderr
        memory_limit = php_bytes(read.stdout.strip())
        assert int(children) >= MIN_FPM_CHILDREN, where
        used = FPM_FIXED_MEMORY + memory_limit + (int(children) - 1) * FPM_WORKER_MEMORY
        assert used <= limit, (where, children, read.stdout, limit)
        checked += 1
    assert checked >= 3
