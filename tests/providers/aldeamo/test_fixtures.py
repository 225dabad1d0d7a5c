"""The fixture set itself: every file is readable and every file is used by a test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures import FIXTURES_DIR, fixture_text, load_fixture

ALDEAMO_DIR = FIXTURES_DIR / "aldeamo"
# Where the adapter tests name fixtures: their modules and the shared table of send examples.
TEST_SOURCES = "\n".join(
    p.read_text(encoding="utf-8")
    for p in [*Path(__file__).parent.glob("test_*.py"), FIXTURES_DIR / "aldeamo_sends.py"]
)


@pytest.mark.parametrize("path", sorted(ALDEAMO_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_json_fixture_is_valid_json(path: Path) -> None:
    assert load_fixture("aldeamo", path.name) == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "path", sorted([*ALDEAMO_DIR.glob("*.json"), *ALDEAMO_DIR.glob("*.txt")]), ids=lambda p: p.name
)
def test_every_fixture_is_used_by_a_test(path: Path) -> None:
    name = path.name if path.suffix == ".txt" else path.stem
    assert f'"{name}' in TEST_SOURCES, f"{path.name} is not used by any Aldeamo test"


def test_verbatim_fixtures_keep_the_manuals_trailing_comma() -> None:
    assert fixture_text("aldeamo", "send_error_401_verbatim.txt").rstrip().endswith('"],\n}')


def test_load_fixture_accepts_the_name_with_or_without_suffix() -> None:
    assert load_fixture("aldeamo", "send_text_response") == load_fixture("aldeamo", "send_text_response.json")
    with pytest.raises(FileNotFoundError):
        load_fixture("aldeamo", "no_such_fixture")
