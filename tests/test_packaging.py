"""Issue 25, item 16: `make demo` printed setuptools' warning that ``project.license`` as a
TOML table is deprecated; the README said nothing of activating ``.venv`` and showed a site
build that exits 2 without a base URL."""

from __future__ import annotations

import re
import tomllib
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
README = (ROOT / "README.md").read_text()


def test_the_license_is_a_plain_spdx_expression() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    assert not any("License ::" in c for c in PYPROJECT["project"].get("classifiers", []))
    (setuptools,) = [r for r in PYPROJECT["build-system"]["requires"] if "setuptools" in r]
    found = re.fullmatch(r"setuptools>=(\d+)", setuptools)
    assert found and int(found.group(1)) >= 77  # PEP 639 license strings


def test_the_metadata_reads_without_a_warning() -> None:
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} predates PEP 639 (the build uses >=77)")
    from setuptools.config.pyprojecttoml import read_configuration

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_configuration(ROOT / "pyproject.toml")


def test_the_readme_says_how_to_reach_panel_and_builds_the_site_as_it_can() -> None:
    quick = README.split("## Quick start", 1)[1].split("## Using it", 1)[0]
    assert "source .venv/bin/activate" in quick and ".venv/bin/panel" in quick
    builds = re.findall(r"^panel site build .*$", README, re.M)
    assert builds and all("--base-url" in line for line in builds)
