"""SQLite catalog facts SQLAlchemy's inspector misses: column-level ``UNIQUE`` constraints, which
SQLite keeps only as ``sqlite_autoindex_*`` indexes."""

from __future__ import annotations

from sqlalchemy.engine import Connection

__all__ = ["unique_autoindexes"]


def unique_autoindexes(conn: Connection, table: str) -> list[tuple[str, ...]]:
    prep = conn.dialect.identifier_preparer
    out = []
    for _, name, unique, origin, _ in conn.exec_driver_sql(f"PRAGMA index_list({prep.quote(table)})"):
        if unique and origin == "u":
            info = conn.exec_driver_sql(f"PRAGMA index_info({prep.quote(name)})").all()
            out.append(tuple(row[2] for row in sorted(info)))
    return out
