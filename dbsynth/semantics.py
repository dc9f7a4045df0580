"""What a column *is*, judged from its name, its table and its type.

The schema-only generator uses this to pick a Faker provider (an ``email`` column gets
addresses, a ``city`` column city names); the learning generators will add judgements from sample
values. Names are split into lowercase tokens first, so ``FirstName``, ``first_name`` and
``firstname`` read the same.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace

import pandas as pd

from dbsynth.schema.model import Column, Table, TypeKind

__all__ = ["PII_SEMANTICS", "ColumnKind", "KindStats", "Semantic", "column_kind", "key_columns", "kind_from_stats",
           "schema_kind", "semantic_of", "shape_of", "tokens", "type_kind"]


class Semantic(enum.StrEnum):
    EMAIL = "email"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    FULL_NAME = "full_name"
    USERNAME = "username"
    PHONE = "phone"
    STREET = "street"
    CITY = "city"
    STATE = "state"
    COUNTRY = "country"
    POSTAL_CODE = "postal_code"
    URL = "url"
    COMPANY = "company"
    IP = "ip"
    JOB = "job"
    TITLE = "title"
    LABEL = "label"
    TEXT = "text"
    CODE = "code"
    CURRENCY = "currency"
    COLOR = "color"
    SECRET = "secret"


_PERSON_TABLES = {"customer", "customers", "employee", "employees", "person", "people", "user", "users",
                  "staff", "artist", "actor", "author", "contact", "member", "student", "player",
                  "patient", "client", "owner", "manager", "account", "teacher", "driver"}


_PLACE_TABLES = {
    **dict.fromkeys(("city", "cities", "town", "towns", "municipality", "municipalities", "commune", "communes",
                     "village", "villages", "locality"), Semantic.CITY),
    **dict.fromkeys(("region", "regions", "department", "departments", "state", "states", "province",
                     "provinces", "county", "counties", "district", "districts"), Semantic.STATE),
    **dict.fromkeys(("country", "countries", "nation", "nations"), Semantic.COUNTRY),
}


def tokens(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [t for t in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if t]


def _has(toks: list[str], *words: str) -> bool:
    return any(w in toks for w in words)


def semantic_of(table: Table, column: Column) -> Semantic | None:
    """The provider kind for a text column, or ``None`` for a plain string."""
    if column.type.kind is not TypeKind.STRING:
        return None
    toks = tokens(column.name)
    joined = "".join(toks)
    if _has(toks, "email", "mail") or "email" in joined:
        return Semantic.EMAIL
    if joined in ("firstname", "givenname", "forename") or (_has(toks, "first", "given") and _has(toks, "name")):
        return Semantic.FIRST_NAME
    if joined in ("lastname", "surname", "familyname") or (_has(toks, "last", "family") and _has(toks, "name")):
        return Semantic.LAST_NAME
    if _has(toks, "username", "login", "handle", "nickname") or joined == "username":
        return Semantic.USERNAME
    if _has(toks, "phone", "fax", "mobile", "tel", "telephone", "cell"):
        return Semantic.PHONE
    if _has(toks, "postal", "zip", "postcode", "zipcode"):
        return Semantic.POSTAL_CODE
    if _has(toks, "address", "street", "address1", "address2", "addr"):
        return Semantic.STREET
    if _has(toks, "city", "town"):
        return Semantic.CITY
    if _has(toks, "state", "province", "county") and not _has(toks, "status"):
        return Semantic.STATE
    if _has(toks, "country", "nation"):
        return Semantic.COUNTRY
    if _has(toks, "url", "website", "homepage", "link", "uri"):
        return Semantic.URL
    if _has(toks, "company", "organisation", "organization", "employer", "vendor", "supplier"):
        return Semantic.COMPANY
    if _has(toks, "ip", "ipv4") or joined in ("ipaddress", "ipaddr"):
        return Semantic.IP
    if _has(toks, "password", "hash", "token", "secret", "salt"):
        return Semantic.SECRET
    if _has(toks, "currency"):
        return Semantic.CURRENCY
    if _has(toks, "color", "colour"):
        return Semantic.COLOR
    if _has(toks, "code", "sku", "ref", "reference", "isbn"):
        return Semantic.CODE
    if _has(toks, "description", "comment", "comments", "notes", "note", "body", "message", "text",
            "summary", "bio", "content", "remarks"):
        return Semantic.TEXT
    if joined in ("fullname", "name", "displayname", "contactname", "customername"):
        if joined != "name" or table.name.lower() in _PERSON_TABLES:
            return Semantic.FULL_NAME
        return _PLACE_TABLES.get(table.name.lower(), Semantic.LABEL)  # a town's name is a place name
    if _has(toks, "title"):
        return Semantic.JOB if table.name.lower() in _PERSON_TABLES else Semantic.TITLE
    if _has(toks, "name"):
        return Semantic.LABEL
    return None


class ColumnKind(enum.StrEnum):
    """How a column is modelled when dbsynth learns from data."""

    KEY = "key"  # PK/FK/unique identifier: never learned, assigned by relational rules
    CATEGORICAL = "categorical"
    NUMERIC = "numeric"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CONSTANT = "constant"
    TEXT = "text"  # nearly unique text: provider values with the source's length distribution
    PII = "pii"  # personal data: provider values, never learned
    SHAPE = "shape"  # identifiers such as ABC-1234: the shape is learned, never a value
    OTHER = "other"  # json, arrays, bytes, uuid…: type-driven schema-only values


PII_SEMANTICS = frozenset({Semantic.EMAIL, Semantic.FIRST_NAME, Semantic.LAST_NAME, Semantic.FULL_NAME,
                           Semantic.USERNAME, Semantic.PHONE, Semantic.STREET, Semantic.POSTAL_CODE,
                           Semantic.IP, Semantic.SECRET})
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_PHONE_RE = re.compile(r"^\+?[\d\s().-]{7,}$")
_CONTENT_PII = (
    re.compile(r"^\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{1,7}$"),  # payment card numbers
    re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$"),  # IBANs
    re.compile(r"^\d{1,3}(\.\d{1,3}){3}$"),  # IPv4 addresses
    re.compile(r"^[0-9a-f:]{6,39}$", re.I),  # IPv6 addresses (and other long hex tokens)
)


def shape_of(value: str) -> str:
    """A value's shape: letters become ``A``, digits ``9``, other characters stay (``AB-1234``)."""
    return re.sub(r"[0-9]", "9", re.sub(r"[A-Za-z]", "A", value))
MAX_CATEGORIES = 50
# a string column whose values repeat — on average at least twice, as SDMetrics counts a column under
# 50 % distinct as a category — is a vocabulary learned as categories (Chinook's track.composer: 853
# names over 2,525 rows). Under DP a column past 5 % distinct stays text: its thresholded release
# would keep none of a long tail, and each state costs noise in every table that holds it.
VOCABULARY_SHARE = 0.5
DP_VOCABULARY_SHARE = 0.05
SAMPLE = 500  # values the content patterns are matched on when learning exactly
_LEARNABLE_TYPES = frozenset({TypeKind.INTEGER, TypeKind.DECIMAL, TypeKind.FLOAT, TypeKind.BOOLEAN,
                              TypeKind.STRING, TypeKind.ENUM, TypeKind.DATE, TypeKind.DATETIME,
                              TypeKind.ARRAY})


def key_columns(table: Table) -> set[str]:
    """Columns that identify rows or point at them: never learned as values."""
    keys = {c for fk in table.foreign_keys for c in fk.columns}
    keys |= set(table.primary_key.columns) if table.primary_key else set()
    keys |= {cols[0] for cols in table.unique_sets() if len(cols) == 1}
    return keys


def schema_kind(table: Table, column: Column) -> ColumnKind | None:
    """The kind the schema alone decides (keys, personal data by name, types dbsynth does not learn);
    ``None`` when the column's values decide."""
    if column.name in key_columns(table):
        return ColumnKind.KEY
    if semantic_of(table, column) in PII_SEMANTICS:
        return ColumnKind.PII
    t = column.type
    if t.kind not in _LEARNABLE_TYPES or (t.kind is TypeKind.ARRAY and (t.item is None or t.item.kind not in (
            TypeKind.STRING, TypeKind.ENUM, TypeKind.INTEGER))):
        return ColumnKind.OTHER
    return None


@dataclass(frozen=True)
class KindStats:
    """What decides a column's kind, as counts of its non-NULL values: exact when learning without
    noise (the patterns counted over the first :data:`SAMPLE` values), Gaussian-noised under
    differential privacy (see :mod:`dbsynth.privacy.profile`). ``sampled`` is how many values the
    pattern counts cover; ``non_mode`` counts values other than the most common one (0: constant)."""

    present: float
    distinct: float
    non_mode: float
    sampled: float = 0.0
    sample_distinct: float = 0.0
    email: float = 0.0
    phone: float = 0.0
    content: float = 0.0  # the most matches of any content-PII pattern (cards, IBANs, IPs)
    top_shape: float = 0.0  # values of the most common shape
    digit_shapes: float = 0.0  # values whose shape holds a digit

    # the counts a kind needs (sampled and sample_distinct are present and distinct when nothing is sampled)
    STRING_FIELDS = ("present", "distinct", "non_mode", "email", "phone", "content", "top_shape", "digit_shapes")
    OTHER_FIELDS = ("present", "non_mode")

    @classmethod
    def of(cls, values: pd.Series, *, strings: bool, sample: int | None = SAMPLE) -> KindStats:
        present = values.dropna()
        counts = present.value_counts()
        base = cls(present=float(len(present)), distinct=float(len(counts)),
                   non_mode=float(len(present) - (counts.iloc[0] if len(counts) else 0)))
        if not strings or not len(present):
            return base
        text = present.astype(str)
        text = text.head(sample) if sample is not None else text
        shapes = text.map(shape_of)
        return replace(base, sampled=float(len(text)), sample_distinct=float(text.nunique()),
                       email=float(text.str.match(_EMAIL_RE).sum()), phone=float(text.str.match(_PHONE_RE).sum()),
                       content=float(max(text.str.match(p).sum() for p in _CONTENT_PII)),
                       top_shape=float(shapes.value_counts().iloc[0]),
                       digit_shapes=float(shapes.str.contains("9").sum()))


def kind_from_stats(column: Column, s: KindStats, *, constant_at: float = 0.0,
                    vocabulary: float = VOCABULARY_SHARE) -> ColumnKind:
    """The kind of a learnable column (see :func:`schema_kind`) from its :class:`KindStats`;
    ``constant_at``: the most values other than the mode a constant column may show (0 when exact,
    the noise's 2σ under DP, where the counts' noise would otherwise hide every constant);
    ``vocabulary``: the largest share of distinct values a string column with more than
    MAX_CATEGORIES values may have and still be categories."""
    kind = column.type.kind
    n = s.sampled
    if kind is TypeKind.STRING and n > 0:
        if s.email > 0.5 * n or s.phone > 0.8 * n or s.content > 0.8 * n:
            return ColumnKind.PII
        # identifiers: many values of one shape with digits, each rare (a town code repeated in every
        # department is a vocabulary, learned as categories below)
        if s.sample_distinct > MAX_CATEGORIES and s.top_shape > 0.9 * n and s.digit_shapes > 0.9 * n \
                and s.distinct > vocabulary * s.present:
            return ColumnKind.SHAPE
    if s.non_mode <= constant_at:
        return ColumnKind.CONSTANT
    if kind in (TypeKind.STRING, TypeKind.ARRAY):  # an array is one category when its lists repeat
        many = s.distinct > MAX_CATEGORIES and s.distinct > vocabulary * s.present
        if kind is TypeKind.ARRAY:
            return ColumnKind.OTHER if many else ColumnKind.CATEGORICAL
        return ColumnKind.TEXT if many else ColumnKind.CATEGORICAL
    return type_kind(column)


def type_kind(column: Column) -> ColumnKind:
    """The kind a learnable non-string column's type gives it."""
    kind = column.type.kind
    if kind is TypeKind.BOOLEAN:
        return ColumnKind.BOOLEAN
    if kind in (TypeKind.INTEGER, TypeKind.DECIMAL, TypeKind.FLOAT):
        return ColumnKind.NUMERIC
    if kind in (TypeKind.DATE, TypeKind.DATETIME):
        return ColumnKind.DATETIME
    if kind is TypeKind.ENUM:
        return ColumnKind.CATEGORICAL
    return ColumnKind.OTHER


def column_kind(table: Table, column: Column, values: pd.Series) -> ColumnKind:
    """Decide how ``column`` is modelled from its name, type and sample ``values``."""
    fixed = schema_kind(table, column)
    if fixed is not None:
        return fixed
    return kind_from_stats(column, KindStats.of(values, strings=column.type.kind is TypeKind.STRING))
