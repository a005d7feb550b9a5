"""Argo CD and Flux output: the upstream CRDs' structure, the install order, --check, usage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from chartgen.build import built_tree
from chartgen.cli import main
from chartgen.gitops import (
    GitopsOptions,
    Tool,
    git_reference,
    repo_url_problem,
    revision_problem,
    sync_waves,
)
from chartgen.plan import Release, plan_from_document
from chartgen.render import RELEASES_FILE
from tests.conftest import CASES, REPO, case_dirs

DATA = Path(__file__).parent / "data" / "gitops"
URL = "https://git.example.com/me/datacenter.git"
VALID = case_dirs("valid")
# Flux's pattern for metav1.Duration fields (the CRD's validation of `interval`).
DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
OPTION_SETS = [
    GitopsOptions("argocd", URL, "generated"),
    GitopsOptions("argocd", URL, "clusters/home", revision="v2", prune=True),
    GitopsOptions("flux", URL, "generated"),
    GitopsOptions("flux", URL, "", revision="refs/tags/v1.2.0"),
]


def _load(data: bytes) -> Any:
    return YAML(typ="safe", pure=True).load(data.decode("utf-8"))


def _references() -> dict[tuple[str, str], dict[str, Any]]:
    references = {}
    for path in sorted(DATA.glob("*.yaml")):
        reference = _load(path.read_bytes())
        references[(reference["apiVersion"], reference["kind"])] = reference
    return references


REFERENCES = _references()


def _leaves(value: Any, fields: dict[str, str], path: str = "") -> Iterator[tuple[str, Any]]:
    """Every field of an object by dotted path. A mapping descends unless the reference types
    that path as a map; a list of mappings descends with `[]`."""
    if isinstance(value, dict) and fields.get(path) not in ("map[string]string", "object"):
        for key, item in value.items():
            yield from _leaves(item, fields, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for item in value:
            yield from _leaves(item, fields, f"{path}[]")
    else:
        yield path, value


def _has_type(value: Any, expected: str) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "duration":
        return isinstance(value, str) and bool(DURATION.match(value))
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "map[string]string":
        return isinstance(value, dict) and all(
            isinstance(key, str) and isinstance(item, str) for key, item in value.items()
        )
    if expected == "object":
        return isinstance(value, dict)
    if expected == "[]string":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    raise AssertionError(f"unknown type {expected} in the test data")


def structure_problems(document: Any) -> list[str]:
    """What in a document the upstream CRD (as written down in tests/data/gitops) would not take."""
    key = (document.get("apiVersion"), document.get("kind"))
    if key not in REFERENCES:
        return [f"no reference for {key}: chartgen must not emit it"]
    reference = REFERENCES[key]
    fields: dict[str, str] = reference["fields"]
    problems = []
    seen = set()
    for path, value in _leaves(document, fields):
        seen.add(path)
        if path not in fields:
            problems.append(f"{path}: not a field chartgen may emit in {key}")
        elif not _has_type(value, fields[path]):
            problems.append(f"{path}: {value!r} is not a {fields[path]}")
        elif value not in reference.get("enums", {}).get(path, [value]):
            problems.append(f"{path}: {value!r} is not one of {reference['enums'][path]}")
    problems += [f"{path}: required" for path in reference["required"] if path not in seen]
    return problems


def _releases(data: bytes) -> tuple[Release, ...]:
    """The releases a tree's releases.yaml records, read as `chartgen install` reads them."""
    return plan_from_document(Path(), _load(data), str(RELEASES_FILE)).releases


def _gitops_documents(files: dict[PurePosixPath, bytes]) -> dict[PurePosixPath, Any]:
    """The first object of each GitOps file, by path."""
    return {path: objects[0] for path, objects in _gitops_objects(files).items()}


def _gitops_objects(files: dict[PurePosixPath, bytes]) -> dict[PurePosixPath, list[Any]]:
    return {
        path: [item for item in YAML(typ="safe", pure=True).load_all(data.decode()) if item]
        for path, data in sorted(files.items())
        if path.parts[0] == "gitops" and path.suffix == ".yaml"
    }


def test_the_checker_rejects_what_the_crds_do_not_have() -> None:
    good: dict[str, Any] = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "dc", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": URL, "ref": {"branch": "main"}},
    }
    assert structure_problems(good) == []
    assert structure_problems({**good, "spec": {**good["spec"], "branch": "main"}}) == [
        "spec.branch: not a field chartgen may emit in "
        "('source.toolkit.fluxcd.io/v1', 'GitRepository')"
    ]
    assert structure_problems({**good, "spec": {"interval": "1 minute", "url": URL}}) == [
        "spec.interval: '1 minute' is not a duration"
    ]
    assert structure_problems({**good, "spec": {"interval": "1m"}}) == ["spec.url: required"]
    assert structure_problems({**good, "apiVersion": "source.toolkit.fluxcd.io/v1beta2"})


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: f"{o.tool}-{o.path or 'root'}")
@pytest.mark.parametrize("case", VALID, ids=[path.name for path in VALID])
def test_every_emitted_object_fits_the_upstream_crd(case: Path, options: GitopsOptions) -> None:
    files = built_tree(str(case / "datacenter.yaml"), options).files
    objects = _gitops_objects(files)
    releases = _releases(files[RELEASES_FILE])
    repositories = {release.repository for release in releases if release.repository}
    # Argo CD's root Application or Flux's GitRepository (with a HelmRepository per chart
    # repository), then one object per release.
    extra = len(repositories) if options.tool == "flux" else 0
    assert sum(len(items) for items in objects.values()) == 1 + extra + len(releases)
    for path, items in objects.items():
        for document in items:
            assert structure_problems(document) == [], path


def _mytinydc(
    options: GitopsOptions, source: Path = CASES / "valid" / "mytinydc"
) -> tuple[tuple[Release, ...], dict[PurePosixPath, Any]]:
    """The proof of concept without a platform layer (the repository's own has one)."""
    files = built_tree(str(source / "datacenter.yaml"), options).files
    return _releases(files[RELEASES_FILE]), _gitops_documents(files)


def test_argocd_app_of_apps_follows_the_install_order() -> None:
    releases, documents = _mytinydc(GitopsOptions("argocd", URL, "generated"))
    root = documents[PurePosixPath("gitops/argocd/root.yaml")]
    assert root["spec"]["source"]["path"] == "generated/gitops/argocd/apps"
    assert root["spec"]["source"]["repoURL"] == URL
    assert root["spec"]["source"]["targetRevision"] == "main"
    waves = {}
    for release in releases:
        app = documents[PurePosixPath(f"gitops/argocd/apps/{release.name}.yaml")]
        assert app["metadata"]["name"] == f"mytinydc-{release.name}"
        assert app["spec"]["source"]["path"] == f"generated/{release.chart}"
        assert app["spec"]["source"]["helm"]["releaseName"] == release.name
        assert app["spec"]["destination"]["namespace"] == release.namespace
        assert "CreateNamespace=true" in app["spec"]["syncPolicy"]["syncOptions"]
        assert app["spec"]["syncPolicy"]["automated"] == {"prune": False, "selfHeal": True}
        assert "finalizers" not in app["metadata"]
        waves[release.name] = int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    assert waves == {"chartgen-namespaces": 0, "chartgen-storage": 1, "web": 1, "cloud": 2}
    for release in releases:
        assert all(waves[need] < waves[release.name] for need in release.needs)


def test_argocd_prune_is_configurable() -> None:
    _releases, documents = _mytinydc(GitopsOptions("argocd", URL, "generated", prune=True))
    for document in documents.values():
        assert document["spec"]["syncPolicy"]["automated"]["prune"] is True
        assert document["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]


def test_flux_releases_depend_on_what_they_need() -> None:
    releases, documents = _mytinydc(GitopsOptions("flux", URL, "deploy/home"))
    source = documents[PurePosixPath("gitops/flux/source.yaml")]
    assert source["spec"] == {"interval": "1m", "url": URL, "ref": {"branch": "main"}}
    for release in releases:
        document = documents[PurePosixPath(f"gitops/flux/releases/{release.name}.yaml")]
        spec = document["spec"]
        assert spec["releaseName"] == release.name
        assert spec["targetNamespace"] == spec["storageNamespace"] == release.namespace
        assert spec["chart"]["spec"]["chart"] == f"deploy/home/{release.chart}"
        assert spec["chart"]["spec"]["reconcileStrategy"] == "Revision"
        assert spec["chart"]["spec"]["sourceRef"]["name"] == source["metadata"]["name"]
        depends = [entry["name"] for entry in spec.get("dependsOn", [])]
        assert depends == [f"mytinydc-{need}" for need in release.needs]
    cloud = documents[PurePosixPath("gitops/flux/releases/cloud.yaml")]
    assert cloud["spec"]["dependsOn"] == [
        {"name": "mytinydc-chartgen-namespaces", "namespace": "flux-system"},
        {"name": "mytinydc-chartgen-storage", "namespace": "flux-system"},
    ]


def test_flux_waits_for_the_nextcloud_upgrade_and_never_rolls_it_back() -> None:
    """A Nextcloud upgrade outlives helm's default 5m (its post-upgrade Job), and Flux's
    default remediation, a rollback, would start the old version over upgraded data."""
    releases, documents = _mytinydc(GitopsOptions("flux", URL, "deploy/home"))
    cloud = next(release for release in releases if release.name == "cloud")
    assert cloud.forward_only and cloud.timeout == "55m"
    spec = documents[PurePosixPath("gitops/flux/releases/cloud.yaml")]["spec"]
    assert spec["timeout"] == "55m"
    assert spec["upgrade"]["remediation"] == {"retries": 0, "remediateLastFailure": False}
    web = documents[PurePosixPath("gitops/flux/releases/web.yaml")]["spec"]
    assert "timeout" not in web
    assert web["upgrade"]["remediation"] == {"retries": 3}


def test_argocd_readme_says_how_a_nextcloud_upgrade_is_bounded() -> None:
    """Argo CD has no per-Application timeout: the hook Job's deadline bounds the sync."""
    options = GitopsOptions("argocd", URL, "generated")
    files = built_tree(str(CASES / "valid" / "mytinydc" / "datacenter.yaml"), options).files
    readme = files[PurePosixPath("gitops/argocd/README.md")].decode()
    assert "\n`cloud`: an upgrade of Nextcloud ends with a post-upgrade Job" in readme
    assert "`activeDeadlineSeconds` ends it" in readme
    app = _gitops_documents(files)[PurePosixPath("gitops/argocd/apps/cloud.yaml")]
    assert "timeout" not in app["spec"] and "timeout" not in app["spec"]["syncPolicy"]
    without = built_tree(str(CASES / "valid" / "app-options" / "datacenter.yaml"), options)
    assert "Nextcloud" not in without.files[PurePosixPath("gitops/argocd/README.md")].decode()


def test_argocd_installs_the_platform_charts_from_their_repositories_first() -> None:
    releases, documents = _mytinydc(GitopsOptions("argocd", URL, "generated"), REPO)
    by_name = {release.name: release for release in releases}
    waves = {}
    for release in releases:
        app = documents[PurePosixPath(f"gitops/argocd/apps/{release.name}.yaml")]
        source = app["spec"]["source"]
        waves[release.name] = int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        if release.repository is None:
            assert source["repoURL"] == URL
            continue
        assert source["chart"] == release.chart
        assert source["targetRevision"] == release.version
        assert "path" not in source
        assert "ServerSideApply=true" in app["spec"]["syncPolicy"]["syncOptions"]
    metallb = documents[PurePosixPath("gitops/argocd/apps/metallb.yaml")]["spec"]["source"]
    assert metallb["repoURL"] == "https://metallb.github.io/metallb"
    assert metallb["helm"]["valuesObject"]["frrk8s"] == {"enabled": False}
    crds = documents[PurePosixPath("gitops/argocd/apps/gateway-api.yaml")]["spec"]["source"]
    assert crds["repoURL"] == "docker.io/envoyproxy"  # Argo CD's spelling of an OCI registry
    files = built_tree(str(REPO / "datacenter.yaml"), GitopsOptions("argocd", URL, "generated"))
    readme = files.files[PurePosixPath("gitops/argocd/README.md")].decode()
    assert '`url: docker.io/envoyproxy` and `enableOCI: "true"`' in readme
    gateway = documents[PurePosixPath("gitops/argocd/apps/chartgen-gateway.yaml")]
    assert "SkipDryRunOnMissingResource=true" in gateway["spec"]["syncPolicy"]["syncOptions"]
    assert waves["flannel"] == 0
    assert waves["traefik"] > waves["chartgen-loadbalancer"] > waves["metallb"]
    assert waves["chartgen-namespaces"] > max(
        waves[name] for name, release in by_name.items() if release.platform
    )


def test_flux_gets_a_helm_repository_per_chart_repository() -> None:
    releases, _documents = _mytinydc(GitopsOptions("flux", URL, "generated"), REPO)
    files = built_tree(str(REPO / "datacenter.yaml"), GitopsOptions("flux", URL, "generated"))
    objects = _gitops_objects(files.files)
    sources = objects[PurePosixPath("gitops/flux/source.yaml")]
    repositories = {
        item["spec"]["url"]: item for item in sources if item["kind"] == "HelmRepository"
    }
    assert set(repositories) == {r.repository for r in releases if r.repository}
    assert repositories["oci://docker.io/envoyproxy"]["spec"]["type"] == "oci"
    traefik = objects[PurePosixPath("gitops/flux/releases/traefik.yaml")][0]["spec"]
    chart = traefik["chart"]["spec"]
    assert chart["chart"] == "traefik"
    assert chart["version"] == "41.3.0"
    assert chart["sourceRef"]["kind"] == "HelmRepository"
    assert (
        repositories["https://traefik.github.io/charts"]["metadata"]["name"]
        == (chart["sourceRef"]["name"])
    )
    assert traefik["values"]["service"]["annotations"] == {
        "metallb.io/loadBalancerIPs": "192.168.1.200"
    }
    assert traefik["install"]["crds"] == traefik["upgrade"]["crds"] == "CreateReplace"
    assert traefik["timeout"] == "10m"
    assert [need["name"] for need in traefik["dependsOn"]] == [
        "mytinydc-flannel",
        "mytinydc-gateway-api",
        "mytinydc-chartgen-loadbalancer",
    ]


def test_waves_are_one_more_than_the_highest_need() -> None:
    releases = [
        Release("a", "a", "charts/a", ()),
        Release("b", "b", "charts/b", ("a",)),
        Release("c", "c", "charts/c", ()),
        Release("d", "d", "charts/d", ("b", "c")),
    ]
    assert sync_waves(releases) == {"a": 0, "b": 1, "c": 0, "d": 2}


@pytest.mark.parametrize(
    ("revision", "reference"),
    [
        ("main", {"branch": "main"}),
        ("refs/tags/v1.0.0", {"name": "refs/tags/v1.0.0"}),
        (
            "0123456789abcdef0123456789abcdef01234567",
            {"commit": "0123456789abcdef" * 2 + "01234567"},
        ),
    ],
)
def test_flux_reference_kinds(revision: str, reference: dict[str, str]) -> None:
    assert git_reference(revision) == reference


def test_output_is_deterministic() -> None:
    options = GitopsOptions("argocd", URL, "generated")
    first = built_tree(str(REPO / "datacenter.yaml"), options).files
    second = built_tree(str(REPO / "datacenter.yaml"), options).files
    assert first == second
    assert all(
        data.startswith(b"# generated by chartgen")
        for path, data in first.items()
        if path.parts[0] == "gitops" and path.suffix == ".yaml"
    )


ARGOCD = ["--gitops", "argocd", "--repo-url", URL, "--path", "generated"]


def test_build_writes_gitops_and_check_covers_it(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    source = str(REPO / "datacenter.yaml")
    result = runner.invoke(main, ["build", source, "-o", str(out), *ARGOCD])
    assert result.exit_code == 0, result.output
    app = out / "gitops" / "argocd" / "apps" / "cloud.yaml"
    assert app.is_file()
    assert runner.invoke(main, ["build", source, "-o", str(out), "--check", *ARGOCD]).exit_code == 0
    # Without the options, the GitOps files are not what a build writes.
    plain = runner.invoke(main, ["build", source, "-o", str(out), "--check"])
    assert plain.exit_code == 1
    assert f"{app}: extra" in plain.stderr
    # Another revision changes every Application.
    moved = runner.invoke(
        main, ["build", source, "-o", str(out), "--check", *ARGOCD, "--revision", "v2"]
    )
    assert moved.exit_code == 1
    assert f"{app}: stale" in moved.stderr
    app.write_text(app.read_text().replace("selfHeal: true", "selfHeal: false"))
    edited = runner.invoke(main, ["build", source, "-o", str(out), "--check", *ARGOCD])
    assert edited.exit_code == 1
    assert f"{app}: edited by hand" in edited.stderr


def test_switching_tools_prunes_the_other_tools_files(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    source = str(REPO / "datacenter.yaml")
    assert runner.invoke(main, ["build", source, "-o", str(out), *ARGOCD]).exit_code == 0
    flux = ["--gitops", "flux", "--repo-url", URL, "--path", "generated"]
    result = runner.invoke(main, ["build", source, "-o", str(out), *flux])
    assert result.exit_code == 0, result.output
    assert not (out / "gitops" / "argocd").exists()
    assert (out / "gitops" / "flux" / "releases" / "web.yaml").is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--repo-url", URL], "--repo-url need --gitops"),
        (["--gitops", "argocd"], "--gitops argocd needs --repo-url URL"),
        (["--gitops", "flux", "--repo-url", URL, "--prune"], "--prune is for Argo CD"),
        (["--gitops", "flux", "--repo-url", URL, "--path", "../x"], "outside the repository"),
        (["--gitops", "tekton", "--repo-url", URL], "'tekton' is not one of"),
        (
            ["--gitops", "argocd", "--repo-url", "not a url"],
            "--repo-url: contains whitespace or a control character; a Git URL has none",
        ),
        (
            ["--gitops", "flux", "--repo-url", "git@git.example.com:me/dc.git"],
            "--repo-url: Flux takes no scp-like address: write ssh://git@git.example.com/me/dc.git",
        ),
        (
            ["--gitops", "flux", "--repo-url", "oci://ghcr.io/me/dc"],
            "--repo-url: oci:// is not a scheme Argo CD and Flux clone from",
        ),
        (
            ["--gitops", "argocd", "--repo-url", URL, "--revision", "bad rev"],
            "--revision: is not a Git reference name: whitespace is not allowed in one",
        ),
    ],
)
def test_usage_errors(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["build", str(REPO / "datacenter.yaml"), "-o", "gen", *arguments])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "gen").exists()


def test_an_absolute_output_folder_needs_path(runner: CliRunner, tmp_path: Path) -> None:
    out = str(tmp_path / "generated")
    flux = ["--gitops", "flux", "--repo-url", URL]
    result = runner.invoke(main, ["build", str(REPO / "datacenter.yaml"), "-o", out, *flux])
    assert result.exit_code == 2
    assert "is absolute: give --path (or gitops.path), relative to the repository's root" in (
        result.stderr
    )


def test_the_default_path_is_the_output_folder(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    flux = ["--gitops", "flux", "--repo-url", URL]
    source = str(REPO / "datacenter.yaml")
    assert runner.invoke(main, ["build", source, "-o", "./deploy//home/", *flux]).exit_code == 0
    release = _load((tmp_path / "deploy/home/gitops/flux/releases/web.yaml").read_bytes())
    assert release["spec"]["chart"]["spec"]["chart"] == "deploy/home/charts/web"


def _with_gitops_key(tmp_path: Path, key: str) -> str:
    """The example datacenter with a `gitops` key appended, in a folder of its own."""
    source = tmp_path / "datacenter.yaml"
    source.write_text((REPO / "datacenter.yaml").read_text() + key)
    return str(source)


ARGOCD_KEY = f"gitops:\n  tool: argocd\n  repoURL: {URL}\n  path: generated\n"


def test_the_gitops_key_makes_a_plain_build_write_the_same_tree(
    runner: CliRunner, tmp_path: Path
) -> None:
    source = _with_gitops_key(tmp_path, ARGOCD_KEY)
    by_options = tmp_path / "by-options"
    plain = runner.invoke(main, ["build", str(REPO / "datacenter.yaml"), "-o", str(by_options)])
    assert plain.exit_code == 0, plain.output
    assert runner.invoke(main, ["build", source, "-o", str(by_options), *ARGOCD]).exit_code == 0
    by_key = tmp_path / "generated"
    result = runner.invoke(main, ["build", source, "-o", str(by_key)])
    assert result.exit_code == 0, result.output
    assert (by_key / "gitops" / "argocd" / "apps" / "cloud.yaml").is_file()
    assert runner.invoke(main, ["build", source, "-o", str(by_options), "--check"]).exit_code == 0
    assert runner.invoke(main, ["diff", source, "-o", str(by_key)]).exit_code == 0


def test_options_override_the_gitops_key(runner: CliRunner, tmp_path: Path) -> None:
    source = _with_gitops_key(tmp_path, ARGOCD_KEY + "  revision: v1\n  prune: true\n")
    out = tmp_path / "generated"
    overridden = ["--revision", "v2", "--no-prune"]
    assert runner.invoke(main, ["build", source, "-o", str(out), *overridden]).exit_code == 0
    app = _load((out / "gitops" / "argocd" / "apps" / "cloud.yaml").read_bytes())
    assert app["spec"]["source"]["targetRevision"] == "v2"
    assert app["spec"]["syncPolicy"]["automated"]["prune"] is False
    assert runner.invoke(main, ["build", source, "-o", str(out)]).exit_code == 0
    app = _load((out / "gitops" / "argocd" / "apps" / "cloud.yaml").read_bytes())
    assert app["spec"]["source"]["targetRevision"] == "v1"
    assert app["spec"]["syncPolicy"]["automated"]["prune"] is True
    # Another tool on the command line: the file's repository, not its Argo CD-only prune.
    flux = runner.invoke(main, ["build", source, "-o", str(out), "--gitops", "flux"])
    assert flux.exit_code == 0, flux.output
    assert not (out / "gitops" / "argocd").exists()
    assert URL in (out / "gitops" / "flux" / "source.yaml").read_text()


def test_a_build_without_gitops_settings_keeps_an_earlier_builds_gitops_files(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "generated"
    source = str(REPO / "datacenter.yaml")
    assert runner.invoke(main, ["build", source, "-o", str(out), *ARGOCD]).exit_code == 0
    apps = sorted((out / "gitops" / "argocd" / "apps").iterdir())
    refused = runner.invoke(main, ["build", source, "-o", str(out)])
    assert refused.exit_code == 1
    assert f"{out}/gitops/argocd/ holds the Argo CD files of an earlier build" in refused.stderr
    assert "gitops:\n      tool: argocd\n" in refused.stderr
    assert "--gitops argocd --repo-url URL" in refused.stderr
    assert "To delete them, build with --force." in refused.stderr
    assert sorted((out / "gitops" / "argocd" / "apps").iterdir()) == apps
    forced = runner.invoke(main, ["build", source, "-o", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert not (out / "gitops").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--repo-url", "github.com/me/x"], "--repo-url: has no scheme"),
        (["--repo-url", "ftp://host/x"], "--repo-url: ftp:// is not a scheme"),
        (["--revision", "a b"], "--revision: is not a Git reference name"),
    ],
)
def test_usage_errors_of_unusable_urls_and_revisions(
    runner: CliRunner, tmp_path: Path, arguments: list[str], message: str
) -> None:
    source = _with_gitops_key(tmp_path, ARGOCD_KEY)
    result = runner.invoke(main, ["build", source, "-o", str(tmp_path / "gen"), *arguments])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "gen").exists()


@pytest.mark.parametrize(
    ("url", "tool", "problem"),
    [
        ("https://git.example.com/me/dc.git", None, None),
        ("http://git.lan:3000/me/dc", "flux", None),
        ("ssh://git@git.example.com/me/dc.git", "flux", None),
        ("git@github.com:me/dc.git", "argocd", None),
        ("git@github.com:me/dc.git", "flux", "write ssh://git@github.com/me/dc.git"),
        ("github.com/me/dc", None, "did you mean https://github.com/me/dc?"),
        ("git://host/me/dc", None, "git:// is not a scheme"),
        ("file:///srv/dc", None, "file:// is not a scheme"),
        ("https:///me/dc", None, "names no host"),
        ("https://github.com", None, "names no repository on github.com"),
        ("https://host/a b", None, "whitespace"),
        ("", None, "is empty"),
    ],
)
def test_repo_url_problem(url: str, tool: Tool | None, problem: str | None) -> None:
    found = repo_url_problem(url, tool)
    assert found == problem if problem is None else problem in (found or "")


@pytest.mark.parametrize(
    ("revision", "problem"),
    [
        ("main", None),
        ("release/1.2", None),
        ("refs/tags/v1.2.0", None),
        ("HEAD", None),
        ("0123456789abcdef0123456789abcdef01234567", None),
        ("", "is empty"),
        ("a..b", "'..'"),
        ("a b", "whitespace"),
        ("a~1", "'~'"),
        ("x@{1}", "'@{'"),
        ("a//b", "'//'"),
        ("feature/", "end in /"),
        ("/main", "begin with /"),
        ("v1.", "end in / or ."),
        (".hidden", "begin with ."),
        ("main.lock", "end in .lock"),
        ("@", "may not be @"),
    ],
)
def test_revision_problem(revision: str, problem: str | None) -> None:
    found = revision_problem(revision)
    assert found == problem if problem is None else problem in (found or "")
