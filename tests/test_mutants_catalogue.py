"""The ``make mutants`` catalogue keeps pointing at real code (the run itself is not part of ``make test``)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from mutants.catalogue import MUTANTS, Mutant

ROOT = Path(__file__).resolve().parent.parent


def test_ids_are_unique_and_the_catalogue_is_not_trivial():
    assert not [name for name, n in Counter(m.id for m in MUTANTS).items() if n > 1]
    assert len(MUTANTS) >= 60


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_each_original_is_in_its_file_exactly_once(mutant: Mutant):
    """A refactoring that moves the code fails here until the catalogue entry follows it."""
    text = (ROOT / mutant.file).read_text()
    assert text.count(mutant.original) == 1, f"{mutant.id}: update the entry to the code of {mutant.file}"
    assert mutant.replacement != mutant.original
    # The planted bug is still Python: a mutant the interpreter refuses proves nothing about the tests.
    ast.parse(text.replace(mutant.original, mutant.replacement))
    for test in mutant.tests:
        assert (ROOT / test.split("::")[0]).exists(), test
    assert not (mutant.postgres_only and mutant.sqlite_only)
