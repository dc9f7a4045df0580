"""Strings that match a regular expression, for columns a CHECK or a rule gives a format
(``sku ~ '^[A-Z]{3}-[0-9]{4}$'``, ``code LIKE 'EU-%'``, see :mod:`dbsynth.rules.domains`): random
text would almost never match, and resampling it would never end.

The pattern is parsed by Python's own regex parser and walked once; every node produces all ``n``
values at a time (a character class draws ``n`` characters, a repeat appends up to its bound with a
per-row count, an alternation picks a branch per row). Back-references and look-arounds are not
generated: :func:`matching` raises :class:`Unsupported` and the column falls back to plain values
and the enforcement loop.
"""

from __future__ import annotations

import re
import string
from typing import Any

import numpy as np
import pandas as pd

try:  # Python 3.11+
    import re._constants as sre_c
    import re._parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

__all__ = ["Unsupported", "matching"]

OPEN_REPEAT = 8  # how far past its minimum an open repeat (*, +, {n,}) may go
PRINTABLE = np.array(list(string.ascii_letters + string.digits), dtype=object)
_CATEGORIES: dict[Any, str] = {
    sre_c.CATEGORY_DIGIT: string.digits,
    sre_c.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_c.CATEGORY_SPACE: " ",
}
_NOT = {sre_c.CATEGORY_NOT_DIGIT: string.digits, sre_c.CATEGORY_NOT_WORD: string.ascii_letters + string.digits + "_",
        sre_c.CATEGORY_NOT_SPACE: " \t\n"}


class Unsupported(ValueError):
    """The pattern uses something strings are not generated for (back-references, look-arounds)."""


def matching(pattern: str, n: int, rng: np.random.Generator) -> pd.Series:
    """``n`` strings each containing a match of ``pattern`` (they are whole matches)."""
    try:
        tree = sre_parse.parse(pattern)
    except re.error as exc:
        raise Unsupported(f"not a regular expression: {exc}") from exc
    return pd.Series(_seq(list(tree), n, rng), dtype=object)


def _seq(items: list[tuple[Any, Any]], n: int, rng: np.random.Generator) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for op, arg in items:
        out = out + _node(op, arg, n, rng)
    return out


def _chars(members: list[tuple[Any, Any]]) -> np.ndarray:
    negate = any(op is sre_c.NEGATE for op, _ in members)
    allowed: set[str] = set()
    for op, arg in members:
        if op is sre_c.LITERAL:
            allowed.add(chr(arg))
        elif op is sre_c.RANGE:
            allowed |= {chr(c) for c in range(arg[0], arg[1] + 1)}
        elif op is sre_c.CATEGORY:
            if arg in _CATEGORIES:
                allowed |= set(_CATEGORIES[arg])
            elif arg in _NOT:
                allowed |= set(string.ascii_letters + string.digits) - set(_NOT[arg])
            else:
                raise Unsupported(f"character category {arg}")
        elif op is not sre_c.NEGATE:
            raise Unsupported(f"character set member {op}")
    if negate:
        allowed = set(PRINTABLE) - allowed
    if not allowed:
        raise Unsupported("an empty character set")
    return np.array(sorted(allowed), dtype=object)


def _node(op: Any, arg: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    if op is sre_c.LITERAL:
        return np.full(n, chr(arg), dtype=object)
    if op is sre_c.NOT_LITERAL:
        pool = PRINTABLE[chr(arg) != PRINTABLE]
        return pool[rng.integers(0, len(pool), n)]
    if op is sre_c.ANY:
        return PRINTABLE[rng.integers(0, len(PRINTABLE), n)]
    if op is sre_c.IN:
        pool = _chars(list(arg))
        return pool[rng.integers(0, len(pool), n)]
    if op is sre_c.AT:
        return np.full(n, "", dtype=object)  # anchors: the string is a whole match anyway
    if op is sre_c.SUBPATTERN:
        return _seq(list(arg[-1]), n, rng)
    if op is sre_c.BRANCH:
        options = [_seq(list(b), n, rng) for b in arg[1]]
        pick = rng.integers(0, len(options), n)
        return np.choose(pick, options)
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
        low, high, sub = arg
        high = low + OPEN_REPEAT if high is sre_c.MAXREPEAT or high > low + OPEN_REPEAT else high
        counts = rng.integers(low, high + 1, n)
        out = np.full(n, "", dtype=object)
        for k in range(high):
            piece = _seq(list(sub), n, rng)
            out = out + np.where(k < counts, piece, "")
        return out
    raise Unsupported(f"regular-expression construct {op}")
