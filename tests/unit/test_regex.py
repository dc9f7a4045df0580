"""Strings generated to match a format: every one matches, whatever the seed."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbsynth.generators.regex import Unsupported, matching
from dbsynth.rules.sql_eval import like_to_regex, similar_to_regex

PATTERNS = [r"^[A-Z]{3}-[0-9]{4}$", r"^(ab|cd)+x?$", r"\d{2,5}", r"^[^0-9]{3}$", r"^[a-z0-9._]+@[a-z]+\.(com|org)$",
            r"^\w+\s\w*$", r"^(?:[A-F0-9]{2}:){5}[A-F0-9]{2}$", like_to_regex("EU-%_"),
            similar_to_regex("[0-9]+(-[0-9]+)?")]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), pattern=st.sampled_from(PATTERNS))
def test_generated_strings_match(seed: int, pattern: str) -> None:
    values = matching(pattern, 200, np.random.default_rng(seed))
    assert len(values) == 200 and all(re.search(pattern, v) for v in values)


@pytest.mark.parametrize("pattern", [r"(a)\1", r"a(?=b)", r"(?<!x)y"])
def test_backreferences_and_lookarounds_are_not_generated(pattern: str) -> None:
    with pytest.raises(Unsupported):
        matching(pattern, 5, np.random.default_rng(0))
