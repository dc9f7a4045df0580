"""Semantic text values from Faker and Mimesis, made fast by drawing from seeded pools.

Calling Faker once per row is the slowest thing a generator could do; instead each column gets a
pool of a few thousand values built once from a seeded Faker/Mimesis instance, and rows index into
it with numpy. The RNG that seeds the pool comes from the caller, so the values are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from faker import Faker
from mimesis import Cryptographic, Person
from mimesis.locales import Locale

from dbsynth.semantics import Semantic

__all__ = ["Providers"]

_POOL = 2000


class Providers:
    """Pools of semantic values for one run, for one Faker locale."""

    def __init__(self, locale: str = "en_US") -> None:
        self.locale = locale
        self._faker = Faker(locale)
        self._person = Person(Locale.EN)
        self._crypto = Cryptographic()

    def _makers(self) -> dict[Semantic, Callable[[], Any]]:
        f = self._faker
        return {
            Semantic.EMAIL: f.email,
            Semantic.FIRST_NAME: f.first_name,
            Semantic.LAST_NAME: f.last_name,
            Semantic.FULL_NAME: f.name,
            Semantic.USERNAME: self._person.username,
            Semantic.PHONE: f.phone_number,
            Semantic.STREET: f.street_address,
            Semantic.CITY: f.city,
            Semantic.STATE: f.state,
            Semantic.COUNTRY: f.country,
            Semantic.POSTAL_CODE: f.postcode,
            Semantic.URL: f.url,
            Semantic.COMPANY: f.company,
            Semantic.IP: f.ipv4,
            Semantic.JOB: f.job,
            Semantic.TITLE: lambda: f.catch_phrase().title(),
            Semantic.LABEL: lambda: " ".join(f.words(f.random_int(1, 2))).title(),
            Semantic.TEXT: f.sentence,
            Semantic.CODE: lambda: f.bothify("???-####").upper(),
            Semantic.CURRENCY: f.currency_code,
            Semantic.COLOR: f.color_name,
            Semantic.SECRET: self._crypto.token_hex,
        }

    def pool(self, semantic: Semantic | None, rng: np.random.Generator, size: int = _POOL) -> np.ndarray:
        """``size`` values of ``semantic`` (plain words when ``None``), seeded from ``rng``."""
        seed = int(rng.integers(0, 2**31 - 1))
        self._faker.seed_instance(seed)
        self._person.reseed(seed)
        self._crypto.reseed(seed)
        make = self._makers().get(semantic) if semantic else None
        if make is None:
            f = self._faker
            return np.array([" ".join(f.words(f.random_int(1, 4))) for _ in range(size)], dtype=object)
        return np.array([str(make()) for _ in range(size)], dtype=object)

    def words(self) -> np.ndarray:
        from faker.providers.lorem.en_US import Provider as Lorem

        return np.array(Lorem.word_list, dtype=object)
