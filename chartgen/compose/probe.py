"""A service's `healthcheck` as the app's probe: an http probe when the command only fetches
a local URL, else the command itself."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from chartgen.compose.context import PathPart, _Builder, _Context
from chartgen.compose.parsing import http_check

_HEALTHCHECK_TIMING = ("interval", "timeout", "retries", "start_period", "start_interval")


class _Probe(_Context):
    """`healthcheck`."""

    def probe(self, service: CommentedMap, here: list[PathPart], built: _Builder) -> None:
        where = [*here, "healthcheck"]
        check = self.mapping(service.get("healthcheck"), where)
        if check is None:
            return
        timing = [key for key in _HEALTHCHECK_TIMING if key in check]
        if check.get("disable") is True:
            self.warn(
                where,
                "disabled: no probe is imported (chartgen's default, tcp on the first port, "
                "applies)",
                key=True,
            )
            return
        if "test" not in check:
            self.warn(where, "has no `test`: no probe is imported", key=True)
            return
        test_where = [*where, "test"]
        test = check["test"]
        words: list[str]
        if isinstance(test, CommentedSeq):
            words = [
                word
                for index in range(len(test))
                if (word := self.text(test, index, [*test_where, index])) is not None
            ]
            if not words:
                self.error(test_where, "is empty")
                return
            kind, words = words[0].upper(), words[1:]
            if kind == "NONE":
                self.warn(
                    where,
                    "disabled (test NONE): no probe is imported (chartgen's default, tcp on the "
                    "first port, applies)",
                    key=True,
                )
                return
            if kind == "CMD-SHELL":
                command = " ".join(words)
                exec_form = ["/bin/sh", "-c", command]
                shell = True
            elif kind == "CMD":
                exec_form = words
                shell = False
            else:
                self.error(test_where, f"starts with `{kind}`: expected CMD, CMD-SHELL or NONE")
                return
        else:
            text = self.text(check, "test", test_where)
            if text is None:
                return
            command = text
            exec_form = ["/bin/sh", "-c", command]
            shell = True
        if not exec_form:
            self.error(test_where, "has no command")
            return
        http = http_check(command if shell else exec_form, shell=shell)
        tcp_ports = {
            port["port"] for port in built.spec.get("ports", []) if port["protocol"] == "TCP"
        }
        if http is not None and http["port"] not in tcp_ports:
            http = None  # a probe checks a port of the Service; the command does the same
        built.spec["probe"] = {"http": http} if http is not None else {"exec": exec_form}
        if http is not None:
            _name_http_port(built.spec["ports"], http["port"])
        built.origins[("probe",)] = self.origin(test_where)
        if timing:
            self.warn(
                [*where, timing[0]],
                f"{', '.join(timing)}: not imported, chartgen's probe timing applies",
                key=True,
            )


def _name_http_port(ports: list[dict[str, Any]], number: int) -> None:
    """The port an HTTP health check answers on is named `http` when it has no better name."""
    names = {port["name"] for port in ports}
    for port in ports:
        if port["port"] == number and port["protocol"] == "TCP":
            if port["name"] == f"tcp-{number}" and "http" not in names:
                port["name"] = "http"
            return
