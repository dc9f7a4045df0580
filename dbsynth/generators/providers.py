"""Semantic text values from Faker, made fast by drawing from seeded pools.

Calling Faker once per row is the slowest thing a generator could do; instead each column gets a
pool of a thousand values built once from a seeded Faker instance, and rows index into it with
numpy. The RNG that seeds the pool comes from the caller, so the values are deterministic.

Building the pools is itself measured: Faker draws a weighted name (en_US: 690 first names, 1,000
last names, each with its frequency) in ~0.1 ms, so the e-mail, name, street, city, company and URL
pools of one run took 1.2 s, half of generating Pagila ×10. People's names are therefore drawn with
numpy from the locale's own lists and weights, and every other value from a Faker that does not
weigh the names inside it (``use_weighting=False``: a street's name is any of the list's last names):
the same pools now take 0.1 s.

Mimesis is not used. Its one use was a hex token for secret-looking columns, which Faker's seeded
``sha256`` gives as well. Mimesis's speed for large batches does not matter here: a pool of 1,000
values is built once per semantic kind per run, whatever the row count. Faker's locales cover what
the providers need.
"""

from __future__ import annotations

import logging
import unicodedata
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from faker import Faker

from dbsynth.errors import UsageError
from dbsynth.semantics import Semantic

__all__ = ["EXAMPLE_DOMAINS", "NAMES", "Providers", "ascii_lower", "email_of"]

log = logging.getLogger(__name__)

POOL = 1000
NAMES = ("real", "invented")
EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")  # reserved (RFC 2606): never a mailbox; Faker's
# safe_domain_name draws from these same three
# values made of lorem words: (fewest, most, style), plain words when a column has no semantic
_WORDINGS: dict[Semantic | None, tuple[int, int, str]] = {
    None: (1, 4, "plain"), Semantic.LABEL: (1, 2, "title"), Semantic.TEXT: (4, 10, "sentence")}
_FAKER: dict[Semantic, tuple[str, Callable[[Callable[..., str]], str] | None]] = {  # Faker's method, how it is called
    Semantic.PHONE: ("phone_number", None), Semantic.STREET: ("street_address", None), Semantic.CITY: ("city", None),
    Semantic.STATE: ("state", None), Semantic.COUNTRY: ("country", None), Semantic.POSTAL_CODE: ("postcode", None),
    Semantic.URL: ("url", None), Semantic.COMPANY: ("company", None), Semantic.IP: ("ipv4", None),
    Semantic.JOB: ("job", None), Semantic.TITLE: ("catch_phrase", lambda m: m().title()),
    Semantic.CODE: ("bothify", lambda m: m("???-####").upper()),
    Semantic.CURRENCY: ("currency_code", None), Semantic.COLOR: ("color_name", None), Semantic.SECRET: ("sha256", None),
}
_PEOPLE = (Semantic.FIRST_NAME, Semantic.LAST_NAME, Semantic.FULL_NAME, Semantic.EMAIL, Semantic.USERNAME)
_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "r", "s", "st", "t", "th",
           "v", "w", "z", "")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou")
_CODAS = ("", "n", "r", "s", "th", "l", "nd", "x")


def ascii_lower(text: str) -> str:
    """``text`` as the lower-case ASCII letters an address is made of (``Zoë Müller`` → ``zoemuller``);
    a name with no Latin letter (``中村``) as ``u`` and a hash of it, the same for the same name."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    out = "".join(ch for ch in plain if ch.isalnum())
    return out or (f"u{zlib.crc32(text.encode()):08x}" if text.strip() else "")


def email_of(first: str, last: str, domain: str) -> str:
    """``first.last@domain`` (``domain`` a reserved example domain: never a real mailbox)."""
    return f"{ascii_lower(first)}.{ascii_lower(last)}@{domain}"


def _real_names() -> frozenset[str]:
    from faker.providers.person.en_US import Provider as Person_

    return frozenset(Person_.first_names) | frozenset(Person_.last_names)


_REAL_NAMES = _real_names()


class Providers:
    """Pools of semantic values for one run, for one Faker locale.

    Each semantic kind's pool is built once per run from ``seed`` and shared by every column of that
    kind (a run's ``first_name`` columns all draw from one pool), so building pools stays cheap
    however many tables there are; which value a row gets comes from the caller's RNG.
    """

    def __init__(self, locale: str = "en_US", *, seed: int = 0, names: str = "real") -> None:
        """``names``: ``real`` (the locale's first and last names, e-mails at reserved example
        domains) or ``invented`` (pronounceable names on no list of real names)."""
        if names not in NAMES:
            raise UsageError(f"--names must be one of {', '.join(NAMES)} (got {names!r})")
        self.locale = locale
        self.seed = seed
        self.names = names
        try:
            self._faker = Faker(locale, use_weighting=False)
        except AttributeError as exc:
            raise UsageError(f"unknown locale {locale!r}: use a Faker locale such as en_US, de_DE, fr_FR") from exc
        self._pools: dict[Semantic | None, np.ndarray] = {}

    def _maker(self, semantic: Semantic) -> Callable[[], Any]:
        """Faker's method for ``semantic`` in this locale, or in en_US where the locale has none
        (ja_JP has no ``state``)."""
        name, finish = _FAKER[semantic]
        f = self._faker
        if not hasattr(f, name):
            log.warning("Faker's %s locale has no %s values: %s columns get en_US ones", self.locale, name,
                        semantic.value)
            f = Faker("en_US", use_weighting=False)
            f.seed_instance(self.seed)
        method = getattr(f, name)
        return method if finish is None else lambda: finish(method)

    def pool(self, semantic: Semantic | None) -> np.ndarray:
        """The run's pool of ``semantic`` values (plain words when ``None``)."""
        if semantic not in self._pools:
            self._pools[semantic] = self._build(semantic, POOL)
        return self._pools[semantic]

    def _build(self, semantic: Semantic | None, size: int) -> np.ndarray:
        seed = (self.seed * 1_000_003 + zlib.crc32(str(semantic).encode())) % (2**31 - 1)
        self._faker.seed_instance(seed)
        if semantic is None or semantic in _WORDINGS:  # through numpy: Faker's calls cost ~40 ms a pool
            return self._wording(seed, size, *_WORDINGS[semantic])
        if semantic in _PEOPLE:
            return self._people(semantic, size, np.random.default_rng(seed))
        make = self._maker(semantic)
        return np.array([str(make()) for _ in range(size)], dtype=object)

    def _people(self, semantic: Semantic, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` values of a person's ``semantic`` (a name, an e-mail, a user name), built from
        first and last names drawn together."""
        if self.names == "invented":
            first = np.array([self._invented(2) for _ in range(size)], dtype=object)
            last = np.array([self._invented(3) for _ in range(size)], dtype=object)
        else:
            first, last = self._listed("first", size, rng), self._listed("last", size, rng)
        if semantic is Semantic.FIRST_NAME:
            return first
        if semantic is Semantic.LAST_NAME:
            return last
        if semantic is Semantic.FULL_NAME:
            return first + " " + last
        if semantic is Semantic.EMAIL:
            domains = rng.integers(0, len(EXAMPLE_DOMAINS), size=size)
            return np.array([email_of(a, b, EXAMPLE_DOMAINS[d]) for a, b, d in zip(first, last, domains, strict=True)],
                            dtype=object)
        numbers = rng.integers(1, 10_000, size=size)  # a user name
        return np.array([f"{ascii_lower(a)}{n}" for a, n in zip(first, numbers, strict=True)], dtype=object)

    def _listed(self, which: str, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` of the locale's ``which`` (first, last) names, by their weights where it has them;
        through Faker where the locale keeps no such list."""
        elements = getattr(self._faker.provider("faker.providers.person"), f"{which}_names", None)
        if not elements:
            make = getattr(self._faker, f"{which}_name")
            return np.array([str(make()) for _ in range(size)], dtype=object)
        names = np.array(list(elements), dtype=object)
        weights = np.array(list(elements.values()), dtype=float) if isinstance(elements, Mapping) else None
        return names[rng.choice(len(names), size=size, p=None if weights is None else weights / weights.sum())]

    def _wording(self, seed: int, size: int, least: int, most: int, style: str) -> np.ndarray:
        """``size`` values of ``least``-``most`` lorem words: plain, ``title`` case, or a ``sentence``."""
        rng = np.random.default_rng(seed)
        vocabulary = self.words()
        counts = rng.integers(least, most + 1, size=size)
        picked = vocabulary[rng.integers(0, len(vocabulary), size=(size, most))]
        out = picked[:, 0].copy()
        for j in range(1, most):
            out = np.where(counts > j, out + " " + picked[:, j], out)
        if style == "title":
            return np.array([v.title() for v in out], dtype=object)
        if style == "sentence":
            return np.array([v[:1].upper() + v[1:] + "." for v in out], dtype=object)
        return out

    def _invented(self, syllables: int) -> str:
        """A pronounceable name that is on no list of real names: people's names are invented, not
        drawn from Faker's lists, so a generated person can never share a real person's name by
        coincidence (Faker's own first and last names are excluded explicitly)."""
        r = self._faker.random
        while True:
            parts = [r.choice(_ONSETS) + r.choice(_VOWELS) for _ in range(syllables)]
            name = ("".join(parts) + r.choice(_CODAS)).capitalize()
            if name not in _REAL_NAMES and len(name) >= 4:
                return name

    def words(self) -> np.ndarray:
        from faker.providers.lorem.en_US import Provider as Lorem

        return np.array(Lorem.word_list, dtype=object)
