"""MySQL/MariaDB CHECK constraints from ``information_schema``: SQLAlchemy parses only the
table-level ones out of ``SHOW CREATE TABLE`` and misses MariaDB's column-level checks."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["check_constraints"]


def check_constraints(conn: Connection, schema: str | None, table: str) -> list[dict[str, str]]:
    if getattr(conn.dialect, "is_mariadb", False):
        sql = """SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
                 WHERE CONSTRAINT_SCHEMA = coalesce(:s, DATABASE()) AND TABLE_NAME = :t
                 ORDER BY CONSTRAINT_NAME"""
    else:
        sql = """SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE
                 FROM information_schema.CHECK_CONSTRAINTS cc
                 JOIN information_schema.TABLE_CONSTRAINTS tc
                   ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA
                  AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK'
                 WHERE cc.CONSTRAINT_SCHEMA = coalesce(:s, DATABASE()) AND tc.TABLE_NAME = :t
                 ORDER BY cc.CONSTRAINT_NAME"""
    rows = conn.execute(sa.text(sql), {"s": schema, "t": table}).all()
    return [{"name": name, "sqltext": clause} for name, clause in rows]
