"""Small literal types shared by the model and the catalogs."""

from typing import Literal

Arch = Literal["amd64", "arm64", "arm"]
ARCHES: tuple[Arch, ...] = ("amd64", "arm64", "arm")

# Pod Security Standards levels, weakest first: a pod that meets a level meets every level
# before it.
Level = Literal["privileged", "baseline", "restricted"]
LEVELS: tuple[Level, ...] = ("privileged", "baseline", "restricted")
