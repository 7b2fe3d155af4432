"""The nightly re-fetches sources before planning (issue 26, item 7): conditionally, within its
own budget, reported in the summary; a changed evidence hash is a reason to re-review, and a
failed fetch keeps the last snapshot (so it is no reason)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.evidence.pack import SourceKind
from panel.inputs.catalog import Catalog
from panel.inputs.toolsources import SourceRef
from panel.paths import Home
from tests.support.catalog import make_catalog
from tests.support.evidence_site import Page, Site, html, serve
from tests.support.fake_llm import FakeLLM, panel_toml
from tests.test_nightly import TOOLS

runner = CliRunner()


@pytest.fixture
def site() -> Iterator[Site]:
    routes = {"/docs": Page(html("Docs", "<p>New Runtime serves 40 tokens per second.</p>"))}
    with serve(routes) as running:
        yield running


@pytest.fixture
def night(home: Home, site: Site) -> Iterator[tuple[Home, FakeLLM]]:
    with FakeLLM() as server:
        make_catalog(home, TOOLS)
        Catalog.load(home.catalog).add_source(
            "new-runtime", SourceRef(f"{site.url}/docs", SourceKind.DOCS)
        )
        home.config_file.write_text(
            panel_toml(server, max_in_flight=2)
            + f'\n[intake]\nallow = ["127.0.0.1:{site.port}"]\n'
            + "[evidence]\nrefresh_hours = 0\n"  # every source is due on every run
        )
        yield home, server


def nightly() -> tuple[dict[str, Any], str]:
    result = runner.invoke(app, ["nightly", "--since", "2026-11-20"])
    assert result.exit_code == 0 and result.stdout.strip(), result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed, result.stderr


def test_the_nightly_refetches_and_re_reviews_on_changed_evidence(
    night: tuple[Home, FakeLLM], site: Site
) -> None:
    home, _ = night
    first, log = nightly()
    assert first["planned"] == 2
    assert first["evidence"]["counts"]["new"] == 1 and first["evidence"]["bytes"] > 0
    assert first["evidence"]["budget_seconds"] == 300.0  # [evidence] nightly_seconds
    assert "evidence: 1 sources (1 new" in log
    saved = json.loads((home.runs / "nightly" / f"{first['date']}.json").read_text())
    assert saved["evidence"]["counts"] == first["evidence"]["counts"]

    second, _ = nightly()  # fetched again, the same text: nothing to re-review
    assert second["evidence"]["counts"]["unchanged"] == 1 and second["planned"] == 0

    site.routes["/docs"] = Page(b"down", status=503, content_type="text/plain")
    third, log = nightly()  # the fetch fails: the last snapshot stands, so nothing changed
    assert third["evidence"]["counts"]["failed"] == 1 and third["planned"] == 0
    assert "evidence failed" in log and "the last snapshot is kept" in log

    site.routes["/docs"] = Page(html("Docs", "<p>New Runtime serves 55 tokens per second.</p>"))
    fourth, _ = nightly()
    assert fourth["evidence"]["counts"]["changed"] == 1
    assert [c["tool"] for c in fourth["comparisons"]] == ["new-runtime"]
    assert fourth["comparisons"][0]["reason"] == "changed since last review: evidence"


def test_a_catalog_without_sources_fetches_nothing(home: Home) -> None:
    with FakeLLM() as server:
        make_catalog(home, TOOLS)
        home.config_file.write_text(panel_toml(server, max_in_flight=2))
        summary, log = nightly()
    assert summary["evidence"] == {} and "evidence:" not in log
