"""The pytest plugin end to end, through pytester in a subprocess (the plugin loads from its
pytest11 entry point, as in a user's project): SQLite and PostgreSQL fixtures, the marker, ini and
command-line options, seed reproduction and xdist."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MARIA, PG, SHOP_SQL

pytest_plugins = ["pytester"]

TESTS = '''
import hashlib, os, pytest, sqlalchemy as sa

def digest(db):
    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT email, city FROM customer ORDER BY customer_id")).all()
    return hashlib.sha1(repr(rows).encode()).hexdigest()[:12]

def count(db, table):
    with db.connect() as conn:
        return conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()

def test_model_rows(shop_db):
    assert count(shop_db, "customer") == 75 and shop_db.rows["customer"] == 75
    with open(os.environ["DIGESTS"], "a") as f:
        f.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')} {shop_db.seed} {digest(shop_db)}\\n")

def test_each_test_gets_its_own_copy_a(shop_db):
    with shop_db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM review"))
    assert count(shop_db, "review") == 0

def test_each_test_gets_its_own_copy_b(shop_db):
    assert count(shop_db, "review") > 0

@pytest.mark.dbsynth(rows={"customer": 7}, seed=3)
def test_marker_overrides(plain_db):
    assert count(plain_db, "customer") == 7 and count(plain_db, "product") == 30 and plain_db.seed == 3

def test_schema_only(plain_db):
    assert count(plain_db, "order_line") == 30
    with plain_db.connect() as conn:
        assert conn.execute(sa.text('SELECT count(*) FROM order_line l LEFT JOIN "order" o USING (order_id) '
                                    'WHERE o.order_id IS NULL')).scalar() == 0
'''


def _project(pytester: pytest.Pytester, model: Path, backend: str, ini: str = "", scale: str = ", scale=0.5",
             serial: bool = False, isolation: str = "reset") -> None:
    ddl = pytester.path / "schema.sql"  # the shop's DDL, in a form both SQLite and PostgreSQL read
    text = SHOP_SQL.read_text()
    ddl.write_text(text.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "SERIAL PRIMARY KEY") if serial
                   else text.replace(" AUTOINCREMENT", ""))
    pytester.makeconftest(f'''
from dbsynth.pytest import seeded
shop_db = seeded({backend!r}, model={str(model)!r}{scale})
plain_db = seeded({backend!r}, ddl="schema.sql", rows=30{", isolation='clone'" if isolation == "clone" else ""})
''')
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_shop=TESTS)


def _digests(path: Path) -> list[tuple[str, str, str]]:
    return [tuple(line.split()) for line in path.read_text().splitlines()]  # type: ignore[misc]


def test_sqlite_fixture_marker_and_seed_reproduction(pytester: pytest.Pytester, shop_model: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _project(pytester, shop_model, "sqlite")
    digests = pytester.path / "digests.txt"
    monkeypatch.setenv("DIGESTS", str(digests))
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    first.assert_outcomes(passed=5)
    header = [line for line in first.outlines if line.startswith("dbsynth: seed ")]
    assert len(header) == 1
    seed = header[0].split()[2]
    again = pytester.runpytest_subprocess("--dbsynth-seed", seed)
    again.assert_outcomes(passed=5)
    other = pytester.runpytest_subprocess("--dbsynth-seed", str(int(seed) + 1))
    other.assert_outcomes(passed=5)
    (_, s1, d1), (_, s2, d2), (_, s3, d3) = _digests(digests)
    assert s1 == s2 == seed and d1 == d2  # the printed seed reproduces the database
    assert s3 != seed and d3 != d1


def test_ini_option_and_command_line_precedence(pytester: pytest.Pytester, shop_model: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _project(pytester, shop_model, "sqlite", ini="dbsynth_seed = 11\ndbsynth_scale = 0.2", scale="")
    monkeypatch.setenv("DIGESTS", str(pytester.path / "digests.txt"))
    res = pytester.runpytest_subprocess("-k", "model_rows", "--dbsynth-scale", "0.5")
    res.assert_outcomes(passed=1)  # 75 customers: the command line's scale beat the ini's
    assert "dbsynth: seed 11 (reproduce with --dbsynth-seed 11)" in res.outlines
    res = pytester.runpytest_subprocess("-k", "model_rows")
    res.assert_outcomes(failed=1)  # the ini's scale 0.2: 30 customers


def test_postgresql_with_xdist(pytester: pytest.Pytester, shop_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _project(pytester, shop_model, "postgresql_noproc",
             ini=f"postgresql_host = {PG['host']}\npostgresql_port = {PG['port']}\npostgresql_user = {PG['user']}")
    pytester.makepyfile(test_templates='''
import sqlalchemy as sa

def test_one_template_per_worker(shop_db):
    with shop_db.connect() as conn:
        names = conn.execute(sa.text("SELECT datname FROM pg_database WHERE datname LIKE 'dbsynth_tpl_%'")).scalars()
        mine = [n for n in names if n.endswith("_" + __import__("os").environ.get("PYTEST_XDIST_WORKER", "main"))]
    assert 1 <= len(mine) <= 3  # shop_db's; plain_db's and the marker's (another template) once made here
''')
    digests = pytester.path / "digests.txt"
    monkeypatch.setenv("DIGESTS", str(digests))
    # --dist each: every worker runs every test, so both seed their own template from the seed
    res = pytester.runpytest_subprocess("-n", "2", "--dist", "each", "-p", "no:randomly", "--dbsynth-seed", "21")
    res.assert_outcomes(passed=12)
    seen = _digests(digests)
    assert {w for w, _, _ in seen} == {"gw0", "gw1"}  # two workers, each with its own template …
    assert {s for _, s, _ in seen} == {"21"} and len({d for _, _, d in seen}) == 1  # … and the same rows
    import psycopg

    with psycopg.connect(host=PG["host"], port=PG["port"], user=PG["user"], dbname="postgres") as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'dbsynth\\_%\\_gw_'").fetchone()
    assert left == (0,)  # templates and clones dropped


def test_readme_snippets_run(pytester: pytest.Pytester) -> None:
    """The README's plugin snippets, copied verbatim into a project, pass."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    snippets = dict(re.findall(r"<!-- snippet: (\S+) -->\n```python\n(.*?)```", readme, flags=re.S))
    assert set(snippets) == {"conftest.py", "test_checkout.py"}
    for name, code in snippets.items():
        (pytester.path / name).write_text(code)
    (pytester.path / "schema.sql").write_text(SHOP_SQL.read_text())
    pytester.runpytest_subprocess().assert_outcomes(passed=2)


@pytest.mark.parametrize("isolation", ["reset", "clone"])
def test_postgresql_isolation_after_writes_and_schema_changes(pytester: pytest.Pytester, shop_model: Path,
                                                              isolation: str) -> None:
    """In file order: tests that delete, update, insert (using a sequence) and alter a table; the
    tests after each see the seeded state again."""
    _project(pytester, shop_model, "postgresql_noproc", serial=True, isolation=isolation,
             ini=f"postgresql_host = {PG['host']}\npostgresql_port = {PG['port']}\npostgresql_user = {PG['user']}")
    pytester.makepyfile(test_shop="", test_reset='''
import sqlalchemy as sa

def state(db):
    with db.connect() as conn:
        return (conn.execute(sa.text("SELECT count(*), count(DISTINCT city) FROM customer")).one(),
                conn.execute(sa.text("SELECT count(*) FROM review")).scalar(),
                [r[0] for r in conn.execute(sa.text("SELECT column_name FROM information_schema.columns "
                                                    "WHERE table_name = 'customer' ORDER BY 1"))])

SEEDED = []

def test_0_seeded(plain_db):
    SEEDED.append(state(plain_db))
    assert SEEDED[0][1] > 0

def test_1_writes(plain_db):
    with plain_db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM review"))
        conn.execute(sa.text("UPDATE customer SET city = 'Springfield'"))
        conn.execute(sa.text("INSERT INTO customer (first_name, last_name, email, created_at) "
                             "VALUES ('A', 'B', 'a@example.org', now())"))
    assert state(plain_db) != SEEDED[0]

def test_2_back_to_seeded(plain_db):
    assert state(plain_db) == SEEDED[0]

def test_3_alters(plain_db):
    with plain_db.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE customer ADD COLUMN nickname text"))

def test_4_back_to_seeded(plain_db):
    assert state(plain_db) == SEEDED[0]
    with plain_db.engine.begin() as conn:  # the sequence was set back too: no duplicate key
        conn.execute(sa.text("INSERT INTO customer (first_name, last_name, email, created_at) "
                             "VALUES ('A', 'B', 'a@example.org', now())"))
''')
    pytester.runpytest_subprocess("-p", "no:xdist").assert_outcomes(passed=5)


def test_mariadb_reset_after_writes_and_schema_changes(pytester: pytest.Pytester) -> None:
    """MariaDB, from a server URL: the seeded database is refilled after each test (AUTO_INCREMENT
    set back too) and re-seeded after a schema change; clone isolation is refused with a reason."""
    ddl = SHOP_SQL.read_text().replace('"order"', "`order`").replace("AUTOINCREMENT", "AUTO_INCREMENT")
    (pytester.path / "schema.sql").write_text(ddl)
    url = f"mysql://{MARIA['user']}@{MARIA['host']}:{MARIA['port']}"
    pytester.makeconftest(f'''
from dbsynth.pytest import seeded
shop_db = seeded({url!r}, ddl="schema.sql", rows=30)
cloned = seeded({url!r}, ddl="schema.sql", rows=30, isolation="clone")
''')
    pytester.makepyfile(test_reset='''
import sqlalchemy as sa

def state(db):
    with db.connect() as conn:
        return (conn.execute(sa.text("SELECT count(*), count(DISTINCT city) FROM customer")).one(),
                conn.execute(sa.text("SELECT count(*) FROM review")).scalar(),
                [r[0] for r in conn.execute(sa.text("SHOW COLUMNS FROM customer"))])

def insert(db):
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO customer (first_name, last_name, email, created_at) "
                             "VALUES ('A', 'B', 'a@example.org', now())"))
        return conn.execute(sa.text("SELECT max(customer_id) FROM customer")).scalar()

SEEN = []

def test_0_seeded(shop_db):
    SEEN.append(state(shop_db))
    SEEN.append(insert(shop_db))
    assert SEEN[0][1] > 0

def test_1_writes(shop_db):
    assert state(shop_db) == SEEN[0]
    with shop_db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM review"))
        conn.execute(sa.text("UPDATE customer SET city = 'Springfield'"))
    assert state(shop_db) != SEEN[0]

def test_2_back_to_seeded(shop_db):
    assert state(shop_db) == SEEN[0]
    assert insert(shop_db) == SEEN[1]  # the AUTO_INCREMENT counter was set back

def test_3_alters(shop_db):
    with shop_db.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE customer ADD COLUMN nickname text"))

def test_4_back_to_seeded(shop_db):
    assert state(shop_db) == SEEN[0]

def test_5_clone_refused(cloned):
    pass
''')
    res = pytester.runpytest_subprocess("-p", "no:xdist")
    res.assert_outcomes(passed=5, errors=1)
    assert any("isolation='clone' needs PostgreSQL" in line for line in res.outlines)


def test_ddl_as_pg_dump_writes_it(pytester: pytest.Pytester, pg_database: Callable[..., str]) -> None:
    """``ddl=`` takes the file users make first, ``pg_dump -s`` output as it comes: current pg_dump
    wraps it in psql meta-commands (``\\restrict KEY``) that only psql understands."""
    shop = pytester.path / "shop.sql"
    shop.write_text(SHOP_SQL.read_text().replace("INTEGER PRIMARY KEY AUTOINCREMENT", "SERIAL PRIMARY KEY"))
    url = pg_database(shop)
    dump = subprocess.run(["pg_dump", "-s", "-h", PG["host"], "-U", PG["user"], url.rsplit("/", 1)[1]],
                          check=True, capture_output=True, text=True).stdout
    (pytester.path / "schema.sql").write_text(f"\\restrict k3y\n{dump}\n\\unrestrict k3y\n")
    pytester.makeconftest('''
from dbsynth.pytest import seeded
dumped = seeded("postgresql_noproc", ddl="schema.sql", rows=12)
''')
    pytester.makepyfile(test_dump='''
import sqlalchemy as sa

def test_seeded_from_the_dump(dumped):
    with dumped.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM customer")).scalar() == 12
''')
    pytester.runpytest_subprocess("-p", "no:xdist").assert_outcomes(passed=1)


def test_mysqldump_delimiters_are_client_syntax() -> None:
    from dbsynth.testing.scripts import mysql_statements, postgres_script

    dump = ("/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE t (id int);\nDELIMITER ;;\n"
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.id = 1; SET NEW.id = 2; END ;;\n"
            "DELIMITER ;\nCREATE TABLE u (id int);\n")
    parts = mysql_statements(dump)
    assert len(parts) == 3 and parts[1].strip().endswith("END") and "SET NEW.id = 2;" in parts[1]
    assert "CREATE TABLE u" in parts[2] and "DELIMITER" not in "".join(parts)
    script = postgres_script("\\restrict x\nCREATE TABLE t (id int);\n\\connect db\n")
    assert script.strip() == "CREATE TABLE t (id int);"
