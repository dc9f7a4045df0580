"""Where a test database server is: from a pytest-postgresql process fixture or from a URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url

__all__ = ["Server"]


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str | None = None
    maintenance: str | None = None  # the database to connect to for CREATE/DROP DATABASE

    @classmethod
    def from_process(cls, proc: Any) -> Server:
        """A pytest-postgresql executor (``postgresql_proc``, ``postgresql_noproc``, …)."""
        return cls(proc.host, int(proc.port), proc.user, proc.password or None,
                   getattr(proc, "maintenance_dbname", None))

    @classmethod
    def from_url(cls, url: str) -> Server:
        u = make_url(url)
        default = 3306 if u.get_backend_name() in ("mysql", "mariadb") else 5432
        return cls(u.host or "127.0.0.1", u.port or default, u.username or "", u.password, u.database)

    def base(self, scheme: str) -> str:
        """``scheme://user[:password]@host:port/`` — append a database name."""
        return f"{scheme}://{self.user}{':' + self.password if self.password else ''}@{self.host}:{self.port}/"
