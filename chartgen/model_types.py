"""Small literal types shared by the model and the catalogs."""

from typing import Literal

Arch = Literal["amd64", "arm64", "arm"]
ARCHES: tuple[Arch, ...] = ("amd64", "arm64", "arm")
