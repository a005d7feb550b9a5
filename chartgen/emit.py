"""YAML out: one deterministic emitter, so user strings are always data, never markup."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml import representer as ruamel_representer

# Plain scalars that YAML 1.1 readers (Helm's and Kubernetes' sigs.k8s.io/yaml) would not read
# back as the same string, though YAML 1.2 would: these strings are always quoted.
_YAML11_NOT_STRING = re.compile(
    r"""^(?:
        [yYnN] | yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF
      | [-+]?0b[01_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
      | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+ | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])*\.[0-9_]*
      | [-+]?(?:[0-9][0-9_]*)?\.[0-9.]*(?:[eE][-+][0-9]+)?
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | ~ | null|Null|NULL | = | <<
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?
    )$""",
    re.VERBOSE,
)


def yaml11_not_string(text: str) -> bool:
    """True for a string that a YAML 1.1 reader would not read back as that string."""
    return _YAML11_NOT_STRING.match(text) is not None


def _represent_str(representer: ruamel_representer.SafeRepresenter, data: str) -> Any:
    if yaml11_not_string(data):
        return representer.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return representer.represent_str(data)


class SafeRepresenter(ruamel_representer.SafeRepresenter):
    """Quotes every string that a YAML 1.1 reader would not read back as that string."""


class RoundTripRepresenter(ruamel_representer.RoundTripRepresenter):
    """The same quoting, for round-trip documents whose comments are kept."""


SafeRepresenter.add_representer(str, _represent_str)
RoundTripRepresenter.add_representer(str, _represent_str)


def round_trip_yaml() -> YAML:
    """The emitter of round-trip documents (values.yaml with the blueprint's comments)."""
    yaml = YAML(typ="rt", pure=True)
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.Representer = RoundTripRepresenter
    return yaml


@functools.cache
def _emitter() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.width = 4096
    yaml.allow_unicode = True
    yaml.Representer = SafeRepresenter
    return yaml


def dump_yaml(data: Any) -> str:
    """One YAML document, keys in the order given, `\\n` line endings."""
    stream = io.StringIO()
    _emitter().dump(data, stream)
    return stream.getvalue()


def dump_yaml_documents(documents: Iterable[Any]) -> str:
    """Several documents separated by `---` (kubeadm multi-document files)."""
    return "".join(f"---\n{dump_yaml(document)}" for document in documents)
