"""Seeded PostgreSQL databases for tests: a template per settings, a working copy reset after
each test (or a clone per test)."""

from __future__ import annotations

from typing import Any

from dbsynth.testing.scripts import postgres_script
from dbsynth.testing.seeding import Settings, fill
from dbsynth.testing.server import Server

__all__ = ["PostgresTemplate"]

_USER_TABLES = """
    SELECT format('%I.%I', n.nspname, c.relname), format('%I', n.nspname || '.' || c.relname),
           string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbsynth_pristine') AND n.nspname NOT LIKE 'pg_%'
    GROUP BY 1, 2 ORDER BY 1"""
_ALL_TABLES = """
    SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbsynth_pristine')
      AND n.nspname NOT LIKE 'pg_%'"""
_PRISTINE = """
    CREATE SCHEMA dbsynth_pristine;
    CREATE UNLOGGED TABLE dbsynth_pristine.dirty (relation text PRIMARY KEY);
    CREATE FUNCTION dbsynth_pristine.mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO dbsynth_pristine.dirty
        SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = coalesce(pg_partition_root(TG_RELID), TG_RELID)
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$"""
_FINGERPRINT = """
    SELECT md5(coalesce(string_agg(concat_ws(':', c.oid, c.relname, c.relkind, a.attname, a.atttypid, a.attnotnull),
                                   ',' ORDER BY c.oid, a.attnum), ''))
      || (SELECT count(*) FROM pg_constraint)::text || (SELECT count(*) FROM pg_trigger)::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"""


class PostgresTemplate:
    """A seeded template and, for ``isolation="reset"``, one working copy per worker that is put
    back to the seeded state after every test: the tables the test wrote to (statement-level
    triggers list them) are emptied and refilled from a pristine copy (schema ``dbsynth_pristine``,
    made in the template) and sequences set back — about a millisecond after a read-only test and
    tens of milliseconds after one that rewrote 10k rows, where ``CREATE DATABASE … TEMPLATE`` costs
    ~200 ms on a server that fsyncs. A test that changed the schema gets a fresh clone instead."""

    def __init__(self, server: Server, key: str, worker: str, s: Settings) -> None:
        import psycopg

        self.conninfo: dict[str, Any] = dict(host=server.host, port=server.port, user=server.user,
                                             password=server.password or None)
        self.maintenance = server.maintenance or "postgres"
        self.base = server.base("postgresql")
        self.template, self.work = f"dbsynth_tpl_{key}_{worker}", f"dbsynth_{key}_{worker}"
        self.clones: list[str] = []
        template = self._janitor(self.template, as_template=True)
        template.drop()  # left over by a run that was killed
        template.init()

        def run_ddl(sql: str) -> None:
            with psycopg.connect(dbname=self.template, autocommit=True, **self.conninfo) as conn:
                conn.execute(postgres_script(sql).encode())  # no parameters: the whole script in one go

        self.rows = fill(self.base + self.template, s, run_ddl)
        with psycopg.connect(dbname=self.template, autocommit=True, **self.conninfo) as conn:
            # refilling turns FK triggers off (session_replication_role), which takes a superuser;
            # for other roles every test gets a clone instead
            self.can_reset = bool(conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                                  .fetchall()[0][0])
            self.tables = {r[0]: (r[1], r[2]) for r in conn.execute(_USER_TABLES).fetchall()}
            conn.execute(_PRISTINE)
            for table, (copy, cols) in self.tables.items():
                conn.execute(f"CREATE TABLE dbsynth_pristine.{copy} AS SELECT {cols} FROM {table}")
            for (relation,) in conn.execute(_ALL_TABLES).fetchall():
                conn.execute(f"CREATE TRIGGER dbsynth_dirty AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                             f"ON {relation} FOR EACH STATEMENT EXECUTE FUNCTION dbsynth_pristine.mark_dirty()")
            names = [r[0] for r in conn.execute("SELECT format('%I.%I', schemaname, sequencename) "
                                                  "FROM pg_sequences").fetchall()]
            # read from each sequence itself: pg_sequences shows NULL for a sequence set with is_called false
            self.sequences = [(n, *conn.execute(f"SELECT last_value, is_called FROM {n}").fetchall()[0])
                              for n in names]
        self.conn: Any = None

    def _janitor(self, name: str, *, template: str | None = None, as_template: bool = False) -> Any:
        """pytest-postgresql's janitor for database ``name``: it creates (from ``template``) and drops
        databases, ending other sessions first."""
        from pytest_postgresql.janitor import DatabaseJanitor

        return DatabaseJanitor(dbname=name, template_dbname=template, as_template=as_template,
                               maintenance_dbname=self.maintenance, **self.conninfo)

    def clone(self, name: str) -> str:
        clone = self._janitor(name, template=self.template)
        clone.drop()
        clone.init()
        self.clones.append(name)
        return self.base + name

    def drop(self, name: str) -> None:
        """Drop a clone made by :meth:`clone`."""
        self._janitor(name).drop()
        self.clones.remove(name)

    def checkout(self) -> str:
        """The working copy, in its seeded state."""
        import psycopg

        if self.conn is None:
            self.clone(self.work)
            self.conn = psycopg.connect(dbname=self.work, **self.conninfo)
            self.fingerprint = self.conn.execute(_FINGERPRINT).fetchone()[0]
            self.conn.commit()
        return self.base + self.work

    def reset(self) -> None:
        """Back to the seeded state after a test (other sessions on the copy are ended first); on
        any failure the copy is dropped and the next test gets a fresh clone."""
        try:
            self._refill()
        except Exception:
            self.conn.close()
            self.conn = None
            self._janitor(self.work).drop()
            raise

    def _refill(self) -> None:
        conn = self.conn
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        if conn.execute(_FINGERPRINT).fetchone()[0] != self.fingerprint:
            conn.rollback()
            conn.close()
            self.conn = None  # the next checkout clones afresh
            return
        # only the tables a test wrote to (statement triggers listed them), FK triggers off meanwhile
        dirty = [t for (t,) in conn.execute("DELETE FROM dbsynth_pristine.dirty RETURNING relation").fetchall()]
        conn.execute("SET LOCAL session_replication_role = replica")
        for table in (t for t in dirty if t in self.tables):
            copy, cols = self.tables[table]
            conn.execute(f"DELETE FROM {table}")
            conn.execute(f"INSERT INTO {table} ({cols}) OVERRIDING SYSTEM VALUE "
                         f"SELECT {cols} FROM dbsynth_pristine.{copy}")
        for seq, value, called in self.sequences:
            conn.execute("SELECT setval(%s, %s, %s)", (seq, value, called))
        conn.commit()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        for name in self.clones:
            self._janitor(name).drop()
        self._janitor(self.template, as_template=True).drop()
