"""Nextcloud's own config handling over two builds: scaling 2 -> 1 replicas removes Redis.

Nextcloud (lib/private/Config.php) reads config.php, then every `*.config.php` of the config
folder in natural order, merging each over the previous (`array_merge`); a setting is used when
`isset` (a null one reads as unset); and any save writes the whole merged array back into
config.php. So the Redis settings chartgen.config.php gave while Redis ran end up in config.php.
The harness below does those three things with the real PHP (php8.2) over the
chartgen.config.php that `helm template` renders after each build.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from chartgen.cli import main
from tests.chart_support import documents, helm
from tests.conftest import REPO

PHP = shutil.which("php8.2") or "/usr/bin/php8.2"

# What Nextcloud does with its config folder, in a few lines of PHP:
#   read:  config.php first, then the *.config.php files (natural order), array_merge over it;
#   get:   a value counts only when isset (null reads as the default);
#   save:  the merged array is written back into config.php (var_export).
HARNESS = r"""<?php
[$self, $dir, $action] = $argv;
$files = [$dir . '/config.php'];
$extra = glob($dir . '/*.config.php');
natsort($extra);
$merged = [];
foreach (array_merge($files, $extra) as $file) {
    unset($CONFIG);
    include $file;
    if (isset($CONFIG) && is_array($CONFIG)) {
        $merged = array_merge($merged, $CONFIG);
    }
}
if ($action === 'save') {
    $merged['lastcron'] = ($merged['lastcron'] ?? 0) + 1;  // any setting a save changes
    $text = "<?php\n\$CONFIG = " . var_export($merged, true) . ";\n";
    file_put_contents($dir . '/config.php', $text);
}
$get = fn (string $key, $default = null) => isset($merged[$key]) ? $merged[$key] : $default;
echo json_encode([
    'memcache.local' => $get('memcache.local'),
    'memcache.distributed' => $get('memcache.distributed'),
    'memcache.locking' => $get('memcache.locking'),
    'redis' => $get('redis', []),
]);
"""

INSTALLED = """<?php
$CONFIG = array (
  'instanceid' => 'oc1234567890',
  'version' => '31.0.9.1',
  'installed' => true,
);
"""


def _config_php(out: Path) -> str:
    """chartgen.config.php as the chart of service `cloud` renders it."""
    manifest = helm("template", "cloud", str(out / "charts" / "cloud"), "--namespace", "cloud")
    (configmap,) = [
        item
        for item in documents(manifest)
        if item["kind"] == "ConfigMap" and item["metadata"]["name"] == "cloud-config"
    ]
    return str(configmap["data"]["chartgen.config.php"])


def _nextcloud(folder: Path, action: str) -> dict[str, Any]:
    script = folder.parent / "harness.php"
    script.write_text(HARNESS, encoding="utf-8")
    done = subprocess.run(
        [PHP, "-n", str(script), str(folder), action],
        capture_output=True,
        text=True,
        check=False,
        env={"CHARTGEN_REDIS_PASSWORD": "secret"},
    )
    assert done.returncode == 0 and not done.stderr, done.stderr + done.stdout
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_scaling_down_to_one_pod_leaves_no_redis_in_use(tmp_path: Path) -> None:
    source = tmp_path / "datacenter.yaml"
    out = tmp_path / "generated"
    config = tmp_path / "www" / "config"
    config.mkdir(parents=True)
    (config / "config.php").write_text(INSTALLED, encoding="utf-8")
    text = (REPO / "datacenter.yaml").read_text(encoding="utf-8")
    scaled = "  - name: cloud\n    type: nextcloud\n    replicas: 2\n"
    assert scaled in text

    # Build 1: two replicas, so Redis; the pod copies the file in and Nextcloud saves once.
    source.write_text(text, encoding="utf-8")
    assert CliRunner().invoke(main, ["build", str(source), "-o", str(out)]).exit_code == 0
    (config / "chartgen.config.php").write_text(_config_php(out), encoding="utf-8")
    first = _nextcloud(config, "save")
    assert first["memcache.distributed"] == "\\OC\\Memcache\\Redis"
    assert first["redis"]["host"] == "cloud-redis"
    # The save wrote the Redis settings into config.php: the stale copy the next build meets.
    assert "'host' => 'cloud-redis'" in (config / "config.php").read_text(encoding="utf-8")

    # Build 2: one replica, Redis removed; the new file replaces the old one at the next start.
    source.write_text(text.replace(scaled, scaled.replace("2", "1")), encoding="utf-8")
    assert CliRunner().invoke(main, ["build", str(source), "-o", str(out)]).exit_code == 0
    (config / "chartgen.config.php").write_text(_config_php(out), encoding="utf-8")
    for action in ("read", "save", "read"):
        effective = _nextcloud(config, action)
        assert effective == {
            "memcache.local": "\\OC\\Memcache\\APCu",
            "memcache.distributed": None,
            "memcache.locking": None,
            "redis": [],
        }, action
