"""ESC, NUL and other control characters in catalog text never reach the terminal raw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.controls import for_terminal, strip_controls
from panel.inputs.catalog import Catalog, Tool
from panel.paths import Home

runner = CliRunner()
HOSTILE = "\x1b[2J\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x00\x9b31m\u202e"
RAW = ("\x1b", "\x00", "\x07", "\x9b", "\u202e")
BASE = {
    "slug": "hostile",
    "name": "Hostile",
    "vendor": "V",
    "category": "C",
    "tagline": "T",
    "description": "D",
    "entry_price": "free",
    "pricing_notes": "P",
    "url": "https://hostile.example/",
    "launched": "2026-01-02",
    "competitors": ["alpha-tool"],
}
TEXT_FIELDS = ("name", "vendor", "category", "tagline", "description", "pricing_notes", "url")
STRICT_FIELDS = ("slug", "entry_price", "launched", "competitors")


def clean(text: str) -> bool:
    return not any(char in text for char in RAW)


def import_line(tmp_path: Path, data: dict[str, object]) -> tuple[int, str, str]:
    path = tmp_path / "tools.jsonl"
    path.write_text(json.dumps(data) + "\n")
    result = runner.invoke(app, ["tools", "import", str(path)])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_control_characters_are_stripped_from_every_text_field_at_import(
    home: Home, tmp_path: Path, name: str
) -> None:
    value = BASE[name]
    assert isinstance(value, str)
    hostile = f"https://hostile.example/{HOSTILE}x" if name == "url" else f"A{HOSTILE}B"
    code, _, err = import_line(tmp_path, {**BASE, name: hostile})
    assert code == 0, err
    tool = Catalog.load(home.catalog).get("hostile")
    stored = getattr(tool, name)
    assert clean(stored) and "[2J" in stored  # the control characters go, the text stays
    assert clean((home.catalog / "hostile.toml").read_text())
    for args in (["tools", "show", "hostile"], ["tools", "list"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and clean(result.stdout), repr(result.stdout)


@pytest.mark.parametrize("name", STRICT_FIELDS)
def test_control_characters_in_a_structured_field_are_refused_in_one_clean_line(
    home: Home, tmp_path: Path, name: str
) -> None:
    value = BASE[name]
    hostile = [f"alpha-tool{HOSTILE}"] if isinstance(value, list) else f"{value}{HOSTILE}"
    code, out, err = import_line(tmp_path, {**BASE, name: hostile})
    assert code == 2 and clean(out + err), repr(err)
    assert len(err.strip().splitlines()) == 1 and f"field '{name}" in err
    assert not (home.catalog / "hostile.toml").exists()


def test_source_is_recorded_by_panel_not_taken_from_the_data(home: Home, tmp_path: Path) -> None:
    code, _, err = import_line(tmp_path, {**BASE, "source": f"forged{HOSTILE}"})
    assert code == 0, err
    catalog = Catalog.load(home.catalog)
    assert catalog.source_of("hostile") == str((tmp_path / "tools.jsonl").resolve())
    shown = runner.invoke(app, ["tools", "show", "hostile"]).stdout
    assert clean(shown) and "tools.jsonl" in "".join(shown.split())  # folded, not cut


def test_csv_and_feed_text_lose_control_characters_too(home: Home, tmp_path: Path) -> None:
    sheet = tmp_path / "launches.csv"
    sheet.write_bytes(b"name,description\nEsc\x1b[2J Tool,Nul\x00 and esc\x1b[8m hidden\n")
    assert runner.invoke(app, ["tools", "import", str(sheet)]).exit_code == 0
    feed = tmp_path / "launches.xml"
    feed.write_bytes(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>L</title><item>'
        b"<title>Feed\x1b[2J Tool</title><link>https://f.example/</link>"
        b"<description>wiped\x1b[8m \x00 hidden</description>"  # the lenient parser keeps them
        b"</item></channel></rss>"
    )
    assert runner.invoke(app, ["tools", "import", str(feed)]).exit_code == 0
    catalog = Catalog.load(home.catalog)
    esc = catalog.get("esc-2j-tool")
    assert esc.name == "Esc[2J Tool" and esc.description == "Nul and esc[8m hidden"
    feed_tool = catalog.get("feed-2j-tool")
    assert feed_tool.name == "Feed[2J Tool" and feed_tool.description == "wiped[8m hidden"


def test_a_hand_edited_entry_with_escapes_is_shown_safely(home: Home) -> None:
    (home.catalog / "edited.toml").write_text(
        'slug = "edited"\nname = "Edited\\u001b[2J"\n'
        'description = "line one\\r\\nline two\\u0000\\u001b[8m"\n'
        'tagline = "[link=https://evil.example]click[/link] [bold red]loud"\n'
    )
    tool = Catalog.load(home.catalog).get("edited")
    assert tool.description == "line one\nline two[8m"  # newlines kept, CR and controls gone
    show = runner.invoke(app, ["tools", "show", "edited"])
    listing = runner.invoke(app, ["tools", "list"])
    for result in (show, listing):
        assert result.exit_code == 0 and clean(result.stdout)
    assert "[link=https://evil.example]click[/link]" in show.stdout  # markup stays literal
    assert "[bold red]loud" in show.stdout


def test_terminal_views_escape_what_gets_past_validation(home: Home) -> None:
    # model_construct skips validation: the view itself must still escape
    raw = Tool.model_construct(slug="raw", name=f"Raw{HOSTILE}", description="d")
    shown = for_terminal(raw.name)
    assert clean(shown) and "\\x1b[2J" in shown and "\\u202e" in shown
    assert for_terminal("two\nlines\tand tab") == "two\nlines\tand tab"


def test_strip_controls() -> None:
    assert strip_controls("a\x1bb\x00c\x7fd\x85e\u202ef") == "abcdef"
    assert strip_controls("a\r\nb\rc\td\x1b", multiline=True) == "a\nb\nc\td"
    assert (
        strip_controls("caf\u00e9 \u4e2d\u6587 \U0001f600") == "caf\u00e9 \u4e2d\u6587 \U0001f600"
    )
