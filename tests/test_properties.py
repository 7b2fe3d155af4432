"""Property tests: any bytes into any reader give a result or a PanelError, nothing else."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel.config import Config
from panel.errors import PanelError
from panel.inputs.catalog import Catalog
from panel.inputs.intake import import_jsonl, import_source
from panel.inputs.votes import parse as parse_votes
from panel.records.io import read_record
from panel.slugs import MAX_SLUG, RESERVED, is_slug, slugify

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Bytes that look a little like each format, and plain noise.
TEXTY = st.one_of(
    st.binary(max_size=2_000),
    st.text(max_size=500).map(str.encode),
    st.lists(
        st.sampled_from(
            [
                '{"name": "x", "description": "d"}',
                "[",
                "]",
                "{",
                "}",
                ",",
                '"',
                "\n",
                "name",
                "tool,ship,skip",
                "alpha-tool",
                "1",
                "-3",
                "=",
                "[panel]",
                "<rss>",
                "<item>",
                "<title>T</title>",
                "\x00",
                "\u202e",
                "launched = 2999-01-01",
                '"""',
            ]
        ),
        max_size=40,
    ).map(lambda parts: "".join(parts).encode()),
)


def _outcome(read: Callable[[Path], object], data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        try:
            read(path)
        except PanelError as exc:
            message = str(exc).strip()
            assert message and "\n" not in message, message  # one clear line


def _catalog() -> Catalog:
    folder = Path(tempfile.mkdtemp())
    (folder / "alpha-tool.toml").write_text('slug = "alpha-tool"\nname = "A"\ndescription = "d"\n')
    return Catalog.load(folder)


@SETTINGS
@given(TEXTY)
def test_jsonl_import(data: bytes) -> None:
    _outcome(lambda p: import_jsonl(_catalog(), p), data, ".jsonl")


@SETTINGS
@given(TEXTY)
def test_csv_and_feed_intake(data: bytes) -> None:
    _outcome(lambda p: import_source(_catalog(), str(p)), data, ".csv")
    _outcome(lambda p: import_source(_catalog(), str(p)), data, ".xml")


@SETTINGS
@given(TEXTY)
def test_vote_csv(data: bytes) -> None:
    _outcome(lambda p: parse_votes(p, _catalog()), data, ".csv")


@SETTINGS
@given(TEXTY)
def test_panel_toml(data: bytes) -> None:
    _outcome(Config.load, data, ".toml")


@SETTINGS
@given(TEXTY)
def test_catalog_file(data: bytes) -> None:
    def load(path: Path) -> object:
        path.rename(path.with_name("x.toml"))
        return Catalog.load(path.parent)

    _outcome(load, data, ".toml")


@SETTINGS
@given(TEXTY)
def test_record_file(data: bytes) -> None:
    _outcome(read_record, data, ".json")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_slugify_is_always_a_safe_file_name_or_empty(text: str) -> None:
    slug = slugify(text)
    assert slug == "" or is_slug(slug)
    assert "/" not in slug and "\\" not in slug and ".." not in slug
    assert slug not in RESERVED and len(slug) <= MAX_SLUG
