from __future__ import annotations

import json
from pathlib import Path

import pytest

from panel.errors import PanelError
from panel.inputs.catalog import Catalog
from panel.inputs.intake import import_jsonl
from panel.paths import Home

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_catalog_is_valid_and_has_the_seed_tools() -> None:
    catalog = Catalog.load(ROOT / "catalog")
    assert len(catalog.tools) >= 12
    for slug in ("smolvlm-2-5", "mistral-medium-3"):
        assert catalog.get(slug).description
    for tool in catalog.tools.values():
        for other in tool.competitors:
            catalog.get(other)  # every competitor link resolves


def test_unknown_slug_suggests_close_matches(home: Home) -> None:
    with pytest.raises(PanelError, match=r"unknown tool 'alpha-tol'; did you mean alpha-tool"):
        Catalog.load(home.catalog).get("alpha-tol")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('slug = "broken"\nname = ', "not valid TOML"),
        ('slug = "broken"\nname = "Broken"', "field 'description'"),
        ('slug = "broken"\nname = "B"\ndescription = "d"\nentry_price = "cheap"', "entry_price"),
        ('slug = "broken"\nname = "B"\ndescription = "d"\nurl = "javascript:alert(1)"', "http"),
        ('slug = "other"\nname = "B"\ndescription = "d"', "does not match the file name"),
        ('slug = "broken"\nname = "B"\ndescription = "d"\nrating = 5', "field 'rating'"),
    ],
)
def test_bad_catalog_file_names_file_and_field(home: Home, content: str, message: str) -> None:
    (home.catalog / "broken.toml").write_text(content)
    with pytest.raises(PanelError, match=message) as err:
        Catalog.load(home.catalog)
    assert "broken.toml" in str(err.value)


def write_lines(path: Path, *objects: object) -> Path:
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n")
    return path


def test_import_adds_and_never_changes_an_editors_entry(home: Home, tmp_path: Path) -> None:
    before = (home.catalog / "alpha-tool.toml").read_bytes()
    feed = write_lines(
        tmp_path / "tools.jsonl",
        {"name": "Gamma Runtime", "description": "Runs things.", "entry_price": "free"},
        {"slug": "alpha-tool", "name": "Alpha Tool", "description": "Now with more alpha."},
    )
    report = import_jsonl(Catalog.load(home.catalog), feed)
    assert (report.added, report.updated) == (["gamma-runtime"], [])
    assert len(report.conflicts) == 1 and "tools.jsonl:2" in report.conflicts[0]
    catalog = Catalog.load(home.catalog)
    assert len(catalog.tools) == 3
    assert catalog.get("gamma-runtime").entry_price == "free"
    assert (home.catalog / "alpha-tool.toml").read_bytes() == before


def test_import_is_all_or_nothing(home: Home, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in home.catalog.iterdir()}
    feed = write_lines(
        tmp_path / "tools.jsonl",
        {"name": "Good One", "description": "fine"},
        {"slug": "alpha-tool", "name": "Alpha Tool", "description": "changed"},
        {"name": "Bad One", "description": "x", "entry_price": "sometimes"},
    )
    with pytest.raises(PanelError, match=r"tools\.jsonl:3: field 'entry_price'"):
        import_jsonl(Catalog.load(home.catalog), feed)
    after = {p.name: p.read_bytes() for p in home.catalog.iterdir()}
    assert after == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"name": "X"', r":1: not valid JSON"),
        ("[1, 2]", r":1: expected a JSON object"),
        ('{"description": "no name"}', r":1: field 'name'"),
        ('{"name": "X", "description": ""}', r":1: field 'description'"),
        ('{"name": "!!!", "description": "d"}', r":1: field 'slug'"),
    ],
)
def test_import_errors_name_line_and_field(
    home: Home, tmp_path: Path, line: str, message: str
) -> None:
    feed = write_lines(tmp_path / "tools.jsonl", line)
    with pytest.raises(PanelError, match=message):
        import_jsonl(Catalog.load(home.catalog), feed)


def test_import_rejects_missing_and_non_utf8_files(home: Home, tmp_path: Path) -> None:
    catalog = Catalog.load(home.catalog)
    with pytest.raises(PanelError, match="no such file"):
        import_jsonl(catalog, tmp_path / "missing.jsonl")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"name": "Caf\xe9", "description": "d"}\n')
    with pytest.raises(PanelError, match="not UTF-8"):
        import_jsonl(catalog, latin)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(PanelError, match="no tools found"):
        import_jsonl(catalog, empty)
