"""Deploys, reports, rolls back and removes the releases a built tree records, through helm.

The only module that imports pyhelm3 and asyncio. pyhelm3 runs the helm binary; the argv it
runs comes from `chartgen.helm_args` and what helm prints is read by `chartgen.helm_output`.
Releases go in the order their `needs` ask for (storage before what claims volumes), the
independent ones in parallel, at most `concurrency` helm commands at a time. A release whose
prerequisite failed is not attempted; the others are not undone: the result says, release by
release, what was done and what was not. Progress goes to a callback; nothing here prints.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pyhelm3 import Command
from pyhelm3 import errors as pyhelm3_errors

from chartgen.errors import NoCluster, OperationFailed
from chartgen.helm_args import (
    ChangeOptions,
    Connection,
    crd_argv,
    delete_claims_argv,
    history_argv,
    list_argv,
    missing_kubeconfig,
    preview_argv,
    rollback_argv,
    status_argv,
    template_argv,
    uninstall_argv,
    upgrade_argv,
)
from chartgen.helm_output import (
    Failure,
    ListedRelease,
    ReleaseState,
    claims_in,
    classify,
    crd_established,
    parse_history,
    parse_list,
    parse_release,
    reason,
)
from chartgen.plan import Plan, Release
from chartgen.tools import cannot_run, find_kubectl
from chartgen.versions import older

T = TypeVar("T")

# pyhelm3 logs every failed command as a warning; chartgen reports failures itself, and
# without a handler Python would print those warnings on stderr.
logging.getLogger("pyhelm3").addHandler(logging.NullHandler())

DEFAULT_CONCURRENCY = 4
# How often a live display is refreshed while helm works (elapsed times keep moving).
TICK_SECONDS = 0.5
# How long a release waits for the CRDs it uses to be Established, and how often it looks.
CRD_TIMEOUT_SECONDS = 180.0
CRD_POLL_SECONDS = 2.0


class Outcome(enum.Enum):
    DEPLOYED = "deployed"
    UNCHANGED = "unchanged"
    WOULD_INSTALL = "would install"
    WOULD_UPGRADE = "would upgrade"
    ROLLED_BACK = "rolled back"
    UNINSTALLED = "uninstalled"
    WOULD_UNINSTALL = "would uninstall"
    ABSENT = "not installed"
    FAILED = "failed"
    FAILED_ROLLED_BACK = "failed, rolled back"
    NOT_ATTEMPTED = "not attempted"

    @property
    def succeeded(self) -> bool:
        return self not in (Outcome.FAILED, Outcome.FAILED_ROLLED_BACK, Outcome.NOT_ATTEMPTED)


@dataclass(frozen=True)
class Progress:
    """One release changed state: `state` is "pending", a verb in -ing, or an outcome."""

    release: Release
    state: str
    done: bool = False
    elapsed: float = 0.0


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class ReleaseResult:
    release: Release
    outcome: Outcome
    revision: int | None = None
    elapsed: float = 0.0
    detail: str = ""


@dataclass(frozen=True)
class RunResult:
    """What happened to every release of the plan, in plan order."""

    action: str
    results: tuple[ReleaseResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.outcome.succeeded for result in self.results)

    def summary(self) -> str:
        """`2 deployed, 1 failed (cloud)`: counts by outcome, naming those that did not work."""
        parts: list[str] = []
        for outcome in Outcome:
            names = [r.release.name for r in self.results if r.outcome is outcome]
            if names:
                named = "" if outcome.succeeded else f" ({', '.join(names)})"
                parts.append(f"{len(names)} {outcome.value}{named}")
        return ", ".join(parts) or "no releases"


@dataclass(frozen=True)
class ReleaseStatus:
    release: Release
    installed: bool
    revision: int | None
    status: str
    chart: str
    app_version: str
    updated: str
    matches: bool | None
    detail: str = ""
    manifest: str = ""  # what DIR would deploy, as the cluster renders it (empty: unknown)


@dataclass(frozen=True)
class Session:
    """Which helm, which cluster, how many helm commands at once, who hears the progress."""

    helm: Path
    connection: Connection = field(default_factory=Connection)
    concurrency: int = DEFAULT_CONCURRENCY
    on_progress: ProgressCallback | None = None
    on_tick: Callable[[], None] | None = None
    crd_timeout: float = CRD_TIMEOUT_SECONDS


class _HelmFailed(Exception):
    def __init__(self, stderr: str) -> None:
        super().__init__(reason(stderr))
        self.failure = classify(stderr)
        self.reason = reason(stderr)


class _Unreachable(Exception):
    """Stops the whole run: no release can be judged without the cluster."""


def install(plan: Plan, session: Session, options: ChangeOptions) -> RunResult:
    """Upgrade-or-install of every release, each after the ones it needs (and once the CRDs
    it uses are Established)."""
    _check_cluster_config(session)
    kubectl = find_kubectl() if any(release.crds for release in plan.releases) else None
    return asyncio.run(_Runner(plan, session, kubectl).install(options))


def uninstall(
    plan: Plan,
    session: Session,
    options: ChangeOptions,
    delete_data: bool = False,
    platform: bool = False,
) -> RunResult:
    """Removes every release, each before the ones it needs; claims stay unless delete_data,
    and the platform releases (the cluster's network edge) stay unless `platform`."""
    _check_cluster_config(session)
    kubectl = find_kubectl() if delete_data and not options.dry_run else None
    removed = plan if platform else plan.without_platform()
    return asyncio.run(_Runner(removed, session, kubectl).uninstall(options, kubectl))


def rollback(
    plan: Plan, name: str, revision: int | None, session: Session, options: ChangeOptions
) -> RunResult:
    """Brings release NAME back to REVISION (the previous one when None) through helm."""
    release = plan.release(name)
    _check_cluster_config(session)
    return asyncio.run(_Runner(plan, session).rollback(release, revision, options))


def status(plan: Plan, session: Session) -> tuple[ReleaseStatus, ...]:
    """Each release's revision, state, chart, and whether it deploys what DIR holds."""
    _check_cluster_config(session)
    return asyncio.run(_Runner(plan, session).status())


def _check_cluster_config(session: Session) -> None:
    problem = missing_kubeconfig(session.connection, os.environ, Path.home())
    if problem is not None:
        raise NoCluster(problem)


@dataclass(frozen=True)
class OfflineRender:
    """One release of an offline preview: its manifests as `helm template` renders them, or
    why it was not rendered (a repository chart is not fetched; a chart that fails)."""

    release: Release
    manifests: str | None
    reason: str = ""


def offline_preview(plan: Plan, helm: Path) -> tuple[OfflineRender, ...]:
    """Every release rendered by `helm template`, in plan order, without any cluster."""
    return tuple(asyncio.run(_Runner(plan, Session(helm)).offline_preview()))


class _Runner:
    def __init__(self, plan: Plan, session: Session, kubectl: Path | None = None) -> None:
        self._plan = plan
        self._session = session
        self._kubectl = kubectl
        self._connection = session.connection
        # pyhelm3 adds no connection flag of its own: they are in the argv from helm_args.
        self._command = Command(executable=str(session.helm))

    async def _helm(self, argv: Sequence[str]) -> bytes:
        try:
            output: bytes = await self._command.run(list(argv))
        except pyhelm3_errors.Error as error:
            failed = _HelmFailed(error.stderr.decode("utf-8", "replace"))
            if failed.failure is Failure.UNREACHABLE:
                raise _Unreachable(failed.reason) from error
            raise failed from error
        except OSError as error:
            raise OperationFailed(cannot_run(self._session.helm, "helm", error)) from error
        return output

    def _tell(self, release: Release, state: str, done: bool = False, elapsed: float = 0.0) -> None:
        if self._session.on_progress is not None:
            self._session.on_progress(Progress(release, state, done, elapsed))

    async def _state(self, release: Release) -> ReleaseState | None:
        """The deployed revision's state, None when helm knows no such release."""
        try:
            return parse_release(await self._helm(status_argv(release, self._connection)))
        except _HelmFailed as failed:
            if failed.failure is Failure.NOT_FOUND:
                return None
            raise

    async def _states(self) -> dict[str, ReleaseState | None]:
        """Every release's current state, read before anything changes."""
        states = await self._gather([self._state(release) for release in self._plan.releases])
        return {
            release.name: state for release, state in zip(self._plan.releases, states, strict=True)
        }

    async def _gather(self, coroutines: Sequence[Awaitable[T]]) -> list[T]:
        limit = asyncio.Semaphore(self._session.concurrency)

        async def limited(coroutine: Awaitable[T]) -> T:
            async with limit:
                return await coroutine

        wrapped = [limited(c) for c in coroutines]
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(_as_coroutine(w)) for w in wrapped]
        except* _Unreachable as unreachable:
            raise NoCluster(f"cluster unreachable: {unreachable.exceptions[0]}") from None
        except* _HelmFailed as failed:
            raise OperationFailed(str(failed.exceptions[0])) from None
        finally:
            # A failure cancels the tasks that had not started: their coroutines were never
            # awaited, which Python reports as a warning unless they are closed.
            _close_unstarted([*wrapped, *coroutines])
        return [task.result() for task in tasks]

    async def _in_order(
        self,
        releases: Sequence[Release],
        verb: str,
        prerequisites: Mapping[str, tuple[str, ...]],
        work: Callable[[Release], Awaitable[ReleaseResult]],
    ) -> tuple[ReleaseResult, ...]:
        """Runs WORK for every release once its prerequisites succeeded, bounded in parallel."""
        limit = asyncio.Semaphore(self._session.concurrency)
        tasks: dict[str, asyncio.Task[ReleaseResult]] = {}

        async def one(release: Release) -> ReleaseResult:
            for name in prerequisites[release.name]:
                before = await tasks[name]
                if not before.outcome.succeeded:
                    why = "failed" if before.outcome is not Outcome.NOT_ATTEMPTED else "was not"
                    result = ReleaseResult(
                        release, Outcome.NOT_ATTEMPTED, detail=f"{name} {why}".rstrip()
                    )
                    self._tell(release, result.outcome.value, done=True)
                    return result
            async with limit:
                self._tell(release, verb)
                started = time.monotonic()
                result = await work(release)
                elapsed = time.monotonic() - started
            result = ReleaseResult(
                result.release, result.outcome, result.revision, elapsed, result.detail
            )
            self._tell(release, result.outcome.value, done=True, elapsed=elapsed)
            return result

        for release in releases:
            self._tell(release, "pending")
        ticker = asyncio.create_task(self._tick()) if self._session.on_tick else None
        try:
            async with asyncio.TaskGroup() as group:
                # All tasks exist before the first one runs: a task may await any other.
                for release in releases:
                    tasks[release.name] = group.create_task(one(release))
        except* _Unreachable as unreachable:
            raise NoCluster(f"cluster unreachable: {unreachable.exceptions[0]}") from None
        finally:
            if ticker is not None:
                ticker.cancel()
        return tuple(tasks[release.name].result() for release in releases)

    async def _tick(self) -> None:
        assert self._session.on_tick is not None
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self._session.on_tick()

    async def install(self, options: ChangeOptions) -> RunResult:
        states = await self._states()
        pending = [
            f'"{release.name}" (namespace {release.namespace}) is {state.status}'
            for release in self._plan.releases
            if (state := states[release.name]) is not None and state.pending
        ]
        if pending:
            raise OperationFailed(
                f"release {'; '.join(pending)}: another helm operation is running or was "
                "interrupted; wait for it to end, or roll the release back "
                "(`chartgen rollback SERVICE`) before installing"
            )

        if options.rollback_on_failure and not options.dry_run:
            await self._refuse_rollback_onto_older(states)

        async def work(release: Release) -> ReleaseResult:
            return await self._install_one(release, states[release.name], options)

        needs = {release.name: release.needs for release in self._plan.releases}
        verb = "checking" if options.dry_run else "installing"
        return RunResult("install", await self._in_order(self._plan.releases, verb, needs, work))

    async def _refuse_rollback_onto_older(self, states: Mapping[str, ReleaseState | None]) -> None:
        """--rollback-on-failure would bring a forward-only app (Nextcloud) back to the version
        it runs now over data that the new version may already have upgraded: refused, before
        anything changes, for every such release whose app version the install changes."""
        installed = [
            release
            for release in self._plan.releases
            if release.forward_only
            and (state := states[release.name]) is not None
            and state.status != "uninstalled"
        ]
        histories = await self._gather(
            [self._helm(history_argv(release, self._connection)) for release in installed]
        )
        moves: list[str] = []
        for release, history in zip(installed, histories, strict=True):
            # helm rolls a failed upgrade back to the last deployed revision, not the last one.
            deployed = [row for row in parse_history(history) if row.status == "deployed"]
            old = deployed[-1].app_version if deployed else ""
            new = self._plan.app_version(release)
            if old and new and new != old:
                moves.append(f'"{release.name}" from {old} to {new}')
        if moves:
            raise OperationFailed(
                f"--rollback-on-failure refused: this install moves {'; '.join(moves)}, and a "
                "failed upgrade rolled back would start the old version over data the new one "
                "may have upgraded, which Nextcloud refuses. Install without "
                "--rollback-on-failure: a failed upgrade then stays for you to look at, and "
                "`chartgen install` again resumes it"
            )

    async def offline_preview(self) -> list[OfflineRender]:
        async def one(release: Release) -> OfflineRender:
            if release.repository is not None:
                return OfflineRender(
                    release,
                    None,
                    f"chart {release.chart} {release.version or ''} comes from "
                    f"{release.repository}: not fetched offline",
                )
            try:
                output = await self._helm(template_argv(release, self._plan.directory))
            except (_HelmFailed, _Unreachable) as failed:
                return OfflineRender(release, None, f"helm template failed: {failed}")
            return OfflineRender(release, output.decode("utf-8", "replace"))

        return await self._gather([one(release) for release in self._plan.releases])

    async def _missing_crds(self, release: Release, wait: bool) -> list[str]:
        """The CRDs of `release.crds` not Established (after waiting for them when `wait`)."""
        if not release.crds or self._kubectl is None:
            return []
        deadline = time.monotonic() + (self._session.crd_timeout if wait else 0.0)
        while True:
            missing = [name for name in release.crds if not await self._crd_ready(name)]
            if not missing or time.monotonic() >= deadline:
                return missing
            await asyncio.sleep(CRD_POLL_SECONDS)

    async def _crd_ready(self, name: str) -> bool:
        assert self._kubectl is not None
        try:
            process = await asyncio.create_subprocess_exec(
                str(self._kubectl),
                *crd_argv(name, self._connection),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as error:
            raise OperationFailed(f"cannot run {self._kubectl}: {error}") from error
        stdout, _stderr = await process.communicate()
        return process.returncode == 0 and crd_established(stdout)

    async def _install_one(
        self, release: Release, current: ReleaseState | None, options: ChangeOptions
    ) -> ReleaseResult:
        chart = self._plan.directory
        installed = current is not None and current.status != "uninstalled"
        missing = await self._missing_crds(release, wait=not options.dry_run)
        if missing and options.dry_run:
            # The releases before it would bring them; the server cannot check it before.
            outcome = Outcome.WOULD_UPGRADE if installed else Outcome.WOULD_INSTALL
            return ReleaseResult(release, outcome, detail=f"after its CRDs: {', '.join(missing)}")
        if missing:
            return ReleaseResult(
                release,
                Outcome.FAILED,
                detail=f"CRDs not served after {self._session.crd_timeout:.0f}s: "
                f"{', '.join(missing)} (the release that brings them failed, or is not "
                "installed)",
            )
        try:
            if installed or options.dry_run:
                preview = parse_release(
                    await self._helm(preview_argv(release, chart, self._connection))
                )
                if (
                    current is not None
                    and current.status == "deployed"
                    and current.deploys_the_same(preview)
                ):
                    return ReleaseResult(release, Outcome.UNCHANGED, current.revision)
                if options.dry_run:
                    outcome = Outcome.WOULD_UPGRADE if installed else Outcome.WOULD_INSTALL
                    return ReleaseResult(release, outcome, preview.revision)
            done = parse_release(
                await self._helm(upgrade_argv(release, chart, options, self._connection))
            )
        except _HelmFailed as failed:
            outcome = Outcome.FAILED_ROLLED_BACK if options.rollback_on_failure else Outcome.FAILED
            return ReleaseResult(release, outcome, detail=failed.reason)
        return ReleaseResult(release, Outcome.DEPLOYED, done.revision)

    async def uninstall(self, options: ChangeOptions, kubectl: Path | None) -> RunResult:
        states = await self._states()

        async def work(release: Release) -> ReleaseResult:
            return await self._uninstall_one(release, states[release.name], options, kubectl)

        dependants = self._plan.dependants()
        verb = "checking" if options.dry_run else "uninstalling"
        return RunResult(
            "uninstall", await self._in_order(self._plan.releases, verb, dependants, work)
        )

    async def _uninstall_one(
        self,
        release: Release,
        current: ReleaseState | None,
        options: ChangeOptions,
        kubectl: Path | None,
    ) -> ReleaseResult:
        if current is None or current.status == "uninstalled":
            return ReleaseResult(release, Outcome.ABSENT)
        claims = claims_in(current.manifest)
        try:
            await self._helm(uninstall_argv(release, options, self._connection))
        except _HelmFailed as failed:
            return ReleaseResult(release, Outcome.FAILED, current.revision, detail=failed.reason)
        if options.dry_run:
            return ReleaseResult(release, Outcome.WOULD_UNINSTALL, current.revision)
        if not claims:
            return ReleaseResult(release, Outcome.UNINSTALLED, current.revision)
        if kubectl is None:
            detail = f"kept claims: {', '.join(claims)}"
            return ReleaseResult(release, Outcome.UNINSTALLED, current.revision, detail=detail)
        deleted = await self._delete_claims(kubectl, release.namespace, claims)
        if deleted:
            return ReleaseResult(release, Outcome.FAILED, current.revision, detail=deleted)
        detail = f"deleted claims: {', '.join(claims)}"
        return ReleaseResult(release, Outcome.UNINSTALLED, current.revision, detail=detail)

    async def _delete_claims(self, kubectl: Path, namespace: str, claims: Sequence[str]) -> str:
        """Deletes the claims with kubectl; helm's `resource-policy: keep` left them. '' if ok."""
        argv = delete_claims_argv(namespace, claims, self._connection)
        try:
            process = await asyncio.create_subprocess_exec(
                str(kubectl),
                *argv,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as error:
            return f"uninstalled, but cannot run {kubectl}: {error}"
        _, stderr = await process.communicate()
        if process.returncode != 0:
            message = stderr.decode("utf-8", "replace").strip()
            return f"uninstalled, but its claims were not deleted: {message}"
        return ""

    async def rollback(
        self, release: Release, revision: int | None, options: ChangeOptions
    ) -> RunResult:
        try:
            current = await self._state(release)
        except _Unreachable as unreachable:
            raise NoCluster(f"cluster unreachable: {unreachable}") from None
        except _HelmFailed as failed:
            raise OperationFailed(failed.reason) from None
        if current is None:
            raise OperationFailed(
                f'release "{release.name}" is not installed in namespace {release.namespace}'
            )
        if current.pending:
            raise OperationFailed(
                f'release "{release.name}" (namespace {release.namespace}) is {current.status}: '
                "another helm operation is running or was interrupted; wait for it to end"
            )

        if revision is None and current.revision <= 1:
            raise OperationFailed(
                f'release "{release.name}" has only revision {current.revision}: '
                "there is no previous revision to roll back to"
            )
        if release.forward_only:
            await self._refuse_older_app(release, current.revision, revision)

        async def work(one: Release) -> ReleaseResult:
            try:
                await self._helm(rollback_argv(one, revision, options, self._connection))
                after = await self._state(one)
            except _HelmFailed as failed:
                return ReleaseResult(one, Outcome.FAILED, current.revision, detail=failed.reason)
            target = f"revision {revision}" if revision is not None else "the previous revision"
            new_revision = after.revision if after is not None else None
            return ReleaseResult(one, Outcome.ROLLED_BACK, new_revision, detail=f"to {target}")

        results = await self._in_order([release], "rolling back", {release.name: ()}, work)
        return RunResult("rollback", results)

    async def _refuse_older_app(self, release: Release, current: int, revision: int | None) -> None:
        """A forward-only app (Nextcloud) refuses data that a newer version upgraded: a rollback
        to a revision with an older app version would leave it down, so it is refused."""
        try:
            history = parse_history(await self._helm(history_argv(release, self._connection)))
        except _Unreachable as unreachable:
            raise OperationFailed(f"cluster unreachable: {unreachable}") from None
        except _HelmFailed as failed:
            raise OperationFailed(failed.reason) from None
        target = revision if revision is not None else current - 1
        by_revision = {row.revision: row for row in history}
        now, then = by_revision.get(current), by_revision.get(target)
        if now is None or then is None or not older(then.app_version, now.app_version):
            return
        raise OperationFailed(
            f'release "{release.name}" runs app version {now.app_version} (revision {current}); '
            f"revision {target} has {then.app_version}, and Nextcloud does not start over data "
            'that a newer version upgraded ("version of the data is higher"): rollback refused. '
            f"To go back to {then.app_version}, restore a backup taken before the upgrade "
            f"(`chartgen restore {release.name} DUMP`); to undo another change, roll back to "
            f"a revision of app version {now.app_version} or install a corrected tree"
        )

    async def status(self) -> tuple[ReleaseStatus, ...]:
        return tuple(
            await self._gather([self._status_one(release) for release in self._plan.releases])
        )

    async def _status_one(self, release: Release) -> ReleaseStatus:
        state = await self._state(release)
        if state is None:
            return ReleaseStatus(release, False, None, "not installed", "", "", "", False)
        listed = parse_list(await self._helm(list_argv(release, self._connection)), release.name)
        row = listed or ListedRelease(state.revision, state.status, "", "", "")
        chart = self._plan.directory
        try:
            preview = parse_release(
                await self._helm(preview_argv(release, chart, self._connection))
            )
        except _HelmFailed as failed:
            return ReleaseStatus(
                release, True, state.revision, state.status, row.chart, row.app_version,
                row.updated, None, detail=failed.reason,
            )  # fmt: skip
        return ReleaseStatus(
            release, True, state.revision, state.status, row.chart, row.app_version, row.updated,
            state.deploys_the_same(preview), manifest=preview.manifest,
        )  # fmt: skip


def _close_unstarted(awaitables: Sequence[Awaitable[object]]) -> None:
    for awaitable in awaitables:
        if inspect.iscoroutine(awaitable) and inspect.getcoroutinestate(awaitable) == (
            inspect.CORO_CREATED
        ):
            awaitable.close()


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable
