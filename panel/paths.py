"""Where panel finds its data folders (catalog/, personas/, prompts/, runs/)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_MARKERS = ("panel.toml", "personas", "catalog")


@dataclass(frozen=True)
class Home:
    """The project folder: data lives in fixed subfolders of ``root``."""

    root: Path

    @property
    def catalog(self) -> Path:
        return self.root / "catalog"

    @property
    def personas(self) -> Path:
        return self.root / "personas"

    @property
    def prompts(self) -> Path:
        return self.root / "prompts"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def config_file(self) -> Path:
        return self.root / "panel.toml"

    @classmethod
    def discover(cls, start: Path | None = None) -> Home:
        """$PANEL_HOME, else the nearest folder up from ``start`` holding panel data."""
        env = os.environ.get("PANEL_HOME")
        if env:
            return cls(Path(env).expanduser().resolve())
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if any((folder / marker).exists() for marker in _MARKERS):
                return cls(folder)
        return cls(Path(__file__).resolve().parent.parent)
