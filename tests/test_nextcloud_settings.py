"""The settings users ask for (mail, phone region, language, proxies, extra config.php keys):
the rendered config.php is read by the real PHP CLI, which must find exactly those values,
hostile strings included, and never run them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.chart_support import build, documents, helm

PHP = shutil.which("php8.2") or "/usr/bin/php8.2"
HOSTILE = [
    "it's",
    "back\\slash",
    "ends with a backslash \\",
    "\\'",
    "{{ .Release.Name }}",
    '{{ fail "rendered" }}',
    "$x ${y} {$z}",
    "?> <?php echo 'out';",
    "*/ // #",
    'double "quotes"',
    "tab\there",
    "é 😀",
]
SMTP_LOGIN = {"CHARTGEN_SMTP_NAME": "mailer", "CHARTGEN_SMTP_PASSWORD": "p'w$d\\"}

DATACENTER = """\
apiVersion: chartgen/v1
kind: Datacenter
metadata: {{name: lab}}
cluster: {{kubernetesVersion: "1.31.4"}}
nodes:
  - {{name: cp, role: control-plane, arch: amd64, address: 192.168.1.10}}
  - {{name: w1, role: worker, arch: amd64, address: 192.168.1.11}}
storage:
  - {{name: disk, type: local, local: {{node: w1, path: /srv}}, default: true}}
services:
  - name: cloud
    type: nextcloud
    host: cloud.lab.example
    storage: {{size: 5Gi}}
    database: {{storage: {{size: 1Gi}}}}
{extra}"""

SETTINGS: dict[str, Any] = {
    "mail": {
        "host": "smtp.lab.example",
        "port": 465,
        "from": "cloud@lab.example",
        "secret": "smtp",
    },
    "phoneRegion": "FR",
    "defaultLanguage": "pt_BR",
    "trustedProxies": ["192.168.1.11", "192.168.1.0/24"],
    "config": {
        **{f"hostile {index}": text for index, text in enumerate(HOSTILE)},
        **dict.fromkeys(HOSTILE, "as a key"),
        "loglevel": 2,
        "preview_max_scale_factor": 0.5,
        "enable_previews": False,
        "enabledPreviewProviders": ["OC\\Preview\\PNG", 3, True],
    },
}


def config_php(chart: Path, tmp_path: Path, *helm_args: str) -> dict[str, Any]:
    """$CONFIG of the chart's chartgen.config.php, as PHP itself reads it (json_encode)."""
    manifest = helm(
        "template", "cloud", str(chart), "--show-only", "templates/configmap.yaml", *helm_args
    )
    configmap = next(
        item for item in documents(manifest) if item["metadata"]["name"].endswith("-config")
    )
    source = tmp_path / "chartgen.config.php"
    source.write_text(configmap["data"]["chartgen.config.php"], encoding="utf-8")
    script = (
        "include $argv[1]; "
        "echo json_encode($CONFIG, JSON_THROW_ON_ERROR | JSON_PRESERVE_ZERO_FRACTION);"
    )
    done = subprocess.run(
        [PHP, "-n", "-r", script, str(source)],
        capture_output=True,
        text=True,
        env={**os.environ, **SMTP_LOGIN},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Nothing of the file ran as code: it printed nothing before the JSON.
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def built_chart(tmp_path: Path, extra: dict[str, Any]) -> Path:
    lines = "".join(
        f"    {key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in extra.items()
    )
    (tmp_path / "datacenter.yaml").write_text(DATACENTER.format(extra=lines), encoding="utf-8")
    build(tmp_path / "datacenter.yaml", tmp_path / "generated")
    return tmp_path / "generated" / "charts" / "cloud"


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """config.php of the same service without any of the settings."""
    folder = tmp_path_factory.mktemp("plain")
    return config_php(built_chart(folder, {}), folder)


@pytest.fixture(scope="module")
def plain_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_chart(tmp_path_factory.mktemp("plain-chart"), {})


def test_php_reads_every_setting_as_data(plain: dict[str, Any], tmp_path: Path) -> None:
    config = config_php(built_chart(tmp_path, SETTINGS), tmp_path)
    expected = {
        **plain,
        "trusted_proxies": [*plain["trusted_proxies"], "192.168.1.11", "192.168.1.0/24"],
        "default_phone_region": "FR",
        "default_language": "pt_BR",
        "mail_smtpmode": "smtp",
        "mail_smtphost": "smtp.lab.example",
        "mail_smtpport": 465,
        "mail_smtpsecure": "ssl",
        "mail_from_address": "cloud",
        "mail_domain": "lab.example",
        "mail_smtpauth": True,
        "mail_smtpname": SMTP_LOGIN["CHARTGEN_SMTP_NAME"],
        "mail_smtppassword": SMTP_LOGIN["CHARTGEN_SMTP_PASSWORD"],
        **SETTINGS["config"],
    }
    assert config == expected
    # The pod subnet stays trusted ahead of the extra proxies.
    assert plain["trusted_proxies"] == ["10.244.0.0/16"]


def test_smtp_login_comes_from_the_named_secret_never_from_values(tmp_path: Path) -> None:
    chart = built_chart(tmp_path, SETTINGS)
    assert SMTP_LOGIN["CHARTGEN_SMTP_PASSWORD"] not in (chart / "values.yaml").read_text()
    manifest = documents(helm("template", "cloud", str(chart)))
    deployment = next(item for item in manifest if item["kind"] == "Deployment")
    fpm = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {item["name"]: item for item in fpm["env"]}
    assert env["CHARTGEN_SMTP_NAME"]["valueFrom"]["secretKeyRef"] == {
        "name": "smtp",
        "key": "username",
    }
    assert env["CHARTGEN_SMTP_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "smtp",
        "key": "password",
    }


def test_submission_port_without_a_secret_sends_unauthenticated_with_starttls(
    plain: dict[str, Any], tmp_path: Path
) -> None:
    mail = {"mail": {"host": "relay.lab.example", "from": "noreply@lab.example"}}
    config = config_php(built_chart(tmp_path, mail), tmp_path)
    added = {key: value for key, value in config.items() if key not in plain}
    assert added == {
        "mail_smtpmode": "smtp",
        "mail_smtphost": "relay.lab.example",
        "mail_smtpport": 587,
        "mail_from_address": "noreply",
        "mail_domain": "lab.example",
    }


# Text a user may put in `config`: one line (the file is a YAML block in a ConfigMap), no
# control character, BOM or noncharacter (refused by both schemas: YAML cannot carry them).
_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x7f\ufeff\ufffe\uffff"
    ),
    max_size=30,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.dictionaries(_TEXT.filter(bool), _TEXT, min_size=1, max_size=8))
def test_any_single_line_text_reaches_php_unchanged(
    entries: dict[str, str], plain_chart: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("property")
    values = folder / "values.json"
    values.write_text(
        json.dumps({"nextcloud": {"extraConfig": entries}}, ensure_ascii=False), encoding="utf-8"
    )
    config = config_php(plain_chart, folder, "--values", str(values))
    assert {key: config[key] for key in entries} == entries
