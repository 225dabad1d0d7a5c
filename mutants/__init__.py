"""Planted bugs that the test suite must catch (``make mutants``); see :mod:`mutants.run`."""
