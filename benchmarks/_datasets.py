"""The benchmarks' shared set-up: Pagila and Chinook from datasets/ loaded into scratch
PostgreSQL databases that are dropped when the run ends."""

from __future__ import annotations

import re
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

DATASETS = Path(__file__).resolve().parents[1] / "datasets"


@dataclass
class Scratch:
    """Creates databases next to ``url`` from SQL files; remembers them so they can be dropped."""

    url: str
    files: dict[str, tuple[list[Path], list[Path]]]  # dataset → (schema + data, schema only)
    admin: psycopg.Connection
    created: list[str] = field(default_factory=list)

    def database(self, prefix: str, files: list[Path]) -> str:
        """A new database loaded from ``files``; returns its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:6]}"
        self.admin.execute(f"CREATE DATABASE {name}")
        self.created.append(name)
        host = re.search(r"@([^:/]+)", self.url).group(1)  # type: ignore[union-attr]
        for path in files:
            subprocess.run(["psql", "-h", host, "-U", "postgres", "-d", name, "-q", "-v", "ON_ERROR_STOP=1",
                            "-f", str(path)], check=True, capture_output=True)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def source(self, dataset: str) -> str:
        return self.database(f"bench_{dataset}", self.files[dataset][0])

    def empty(self, dataset: str) -> str:
        """A database with the dataset's tables and no rows."""
        return self.database(f"bench_{dataset}_target", self.files[dataset][1])


@contextmanager
def scratch(url: str) -> Iterator[Scratch]:
    with tempfile.TemporaryDirectory() as tmp:
        text = (DATASETS / "chinook" / "Chinook_PostgreSql.sql").read_text(encoding="utf-8")
        text = re.sub(r"^(DROP DATABASE|CREATE DATABASE|\\c).*$", "", text, flags=re.M)
        full, ddl = Path(tmp) / "chinook.sql", Path(tmp) / "chinook-ddl.sql"
        full.write_text(text, encoding="utf-8")
        ddl.write_text(text[:text.index("INSERT INTO")], encoding="utf-8")
        pagila = DATASETS / "pagila"
        files = {"pagila": ([pagila / "pagila-schema.sql", pagila / "pagila-data.sql"], [pagila / "pagila-schema.sql"]),
                 "chinook": ([full], [ddl])}
        admin = psycopg.connect(url, autocommit=True)
        s = Scratch(url, files, admin)
        try:
            yield s
        finally:
            for db in s.created:
                admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            admin.close()
