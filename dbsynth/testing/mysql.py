"""Seeded MySQL / MariaDB databases for tests.

MySQL cannot copy a database, so the seeded database itself is what tests use, and a pristine copy
of its rows (database ``dbsynth_pristine_…``) puts it back after every test: foreign-key checks off,
the tables the test wrote to emptied and refilled, their AUTO_INCREMENT counters set back. Row
triggers list written tables in a MEMORY table (so a rolled-back write is listed too); a table whose
row count changed without them (TRUNCATE) is refilled as well. Views, routines and the DDL's own
triggers stay as they are. A test that changed the schema makes the next one wait for a re-seed.
"""

from __future__ import annotations

import contextlib
from typing import Any

from dbsynth.errors import UsageError
from dbsynth.testing.scripts import mysql_statements
from dbsynth.testing.seeding import Settings, fill
from dbsynth.testing.server import Server

__all__ = ["MySqlTemplate"]

_FINGERPRINT = """
    SELECT MD5(COALESCE(GROUP_CONCAT(CONCAT_WS(':', TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE)
                                     ORDER BY TABLE_NAME, ORDINAL_POSITION SEPARATOR ','), ''))
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"""


class MySqlTemplate:
    can_reset = True

    def __init__(self, server: Server, key: str, worker: str, s: Settings) -> None:
        self.server, self.settings = server, s
        self.template, self.pristine = f"dbsynth_tpl_{key}_{worker}", f"dbsynth_pristine_{key}_{worker}"
        self.base = server.base("mysql")
        self.conn: Any = None
        self._build()

    def _connect(self, database: str | None = None, *, multi: bool = False) -> Any:
        import pymysql

        flags = pymysql.constants.CLIENT.MULTI_STATEMENTS if multi else 0
        return pymysql.connect(host=self.server.host, port=self.server.port, user=self.server.user,
                               password=self.server.password or "", database=database, autocommit=True,
                               client_flag=flags)

    def _build(self) -> None:
        with self._connect() as admin, admin.cursor() as cur:
            for name in (self.template, self.pristine):
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"CREATE DATABASE `{self.template}`")
            cur.execute(f"CREATE DATABASE `{self.pristine}`")

        def run_ddl(sql: str) -> None:
            with self._connect(self.template, multi=True) as conn, conn.cursor() as cur:
                for script in mysql_statements(sql):
                    cur.execute(script)
                    while cur.nextset():
                        pass

        self.rows = fill(self.base + self.template, self.settings, run_ddl)
        with self._connect(self.template) as conn, conn.cursor() as cur:
            cur.execute("SELECT c.TABLE_NAME, "
                        "GROUP_CONCAT(CONCAT('`', c.COLUMN_NAME, '`') ORDER BY c.ORDINAL_POSITION), "
                        "MAX(t.AUTO_INCREMENT) FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
                        "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
                        "WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' "
                        "AND c.EXTRA NOT LIKE '%%GENERATED%%' GROUP BY c.TABLE_NAME")
            self.tables: list[tuple[str, str, int | None]] = [(t, cols, inc) for t, cols, inc in cur.fetchall()]
            cur.execute(f"CREATE TABLE `{self.pristine}`.dirty (relation VARCHAR(64) PRIMARY KEY) ENGINE=MEMORY")
            for i, (table, cols, _) in enumerate(self.tables):
                cur.execute(f"CREATE TABLE `{self.pristine}`.`{table}` AS SELECT {cols} FROM `{table}`")
                for op in ("INSERT", "UPDATE", "DELETE"):
                    cur.execute(f"CREATE TRIGGER `dbsynth_{op.lower()}_{i}` AFTER {op} ON `{table}` FOR EACH ROW "
                                f"INSERT IGNORE INTO `{self.pristine}`.dirty VALUES ('{table}')")
            self.counts_sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM `{t}`)" for t, _, _ in self.tables)
            cur.execute(self.counts_sql)
            self.counts = cur.fetchone()
            cur.execute(_FINGERPRINT)
            self.fingerprint = cur.fetchone()[0]

    def checkout(self) -> str:
        if self.conn is None:
            self.conn = self._connect(self.template)
        return self.base + self.template

    def reset(self) -> None:
        """Back to the seeded rows after a test (its other sessions ended first)."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s AND ID <> CONNECTION_ID()",
                        (self.template,))
            for (pid,) in cur.fetchall():
                with contextlib.suppress(Exception):  # it may have ended on its own meanwhile
                    cur.execute(f"KILL {int(pid)}")
            cur.execute(_FINGERPRINT)
            if cur.fetchone()[0] != self.fingerprint:
                self.conn.close()
                self.conn = None
                self._build()
                return
            cur.execute(f"SELECT relation FROM `{self.pristine}`.dirty")
            dirty = {r[0] for r in cur.fetchall()}
            cur.execute(f"DELETE FROM `{self.pristine}`.dirty")
            cur.execute(self.counts_sql)
            dirty |= {t for (t, _, _), now, then in zip(self.tables, cur.fetchone(), self.counts, strict=True)
                      if now != then}
            cur.execute("SET FOREIGN_KEY_CHECKS = 0")
            try:
                for table, cols, increment in (t for t in self.tables if t[0] in dirty):
                    cur.execute(f"DELETE FROM `{table}`")
                    cur.execute(f"INSERT INTO `{table}` ({cols}) SELECT {cols} FROM `{self.pristine}`.`{table}`")
                    if increment is not None:
                        cur.execute(f"ALTER TABLE `{table}` AUTO_INCREMENT = {int(increment)}")
            finally:
                cur.execute("SET FOREIGN_KEY_CHECKS = 1")

    def clone(self, name: str) -> str:
        raise UsageError("isolation='clone' needs PostgreSQL: MySQL cannot copy a database; use the "
                         "default isolation='reset'")

    def drop(self, name: str) -> None:
        self.clone(name)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        with self._connect() as admin, admin.cursor() as cur:
            for name in (self.template, self.pristine):
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
