"""What a seeded PostgreSQL (or, with ``--mysql URL``, MySQL/MariaDB) database costs a test: a pytest project using
``dbsynth.pytest.seeded("postgresql_noproc", ddl=…, rows=1700)`` (the demo shop, 6 tables, 10,200
rows), run in a subprocess; prints the first test's set-up (it seeds the template), then the median
set-up + teardown of 39 read-only tests and of 20 tests that delete 1,700 rows and update 1,700
others (the reset refills those tables), in one run.

    python benchmarks/fixture_overhead.py [--host 127.0.0.1] [--port 5432] [--user postgres] [--mysql URL]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop.sql"

CONFTEST = '''
import json, os
from dbsynth.pytest import seeded
shop_db = seeded(os.environ["BACKEND"], ddl="schema.sql", rows=1700)
TIMES = {}

def pytest_runtest_logreport(report):
    if report.when in ("setup", "teardown"):
        TIMES.setdefault(report.nodeid, {})[report.when] = report.duration

def pytest_sessionfinish(session):
    with open(os.environ["TIMES"], "w") as f:
        json.dump(TIMES, f)
'''

TESTS = '''
import pytest, sqlalchemy as sa

@pytest.mark.parametrize("i", range(40))
def test_reads(shop_db, i):
    with shop_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM order_line")).scalar() == 1700


@pytest.mark.parametrize("i", range(20))
def test_writes(shop_db, i):  # rewrites two tables: the reset refills them
    with shop_db.engine.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM order_line")).scalar() == 1700
        conn.execute(sa.text("DELETE FROM order_line"))
        conn.execute(sa.text("UPDATE customer SET city = 'Springfield'"))
'''


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", default="5432")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--mysql", metavar="URL", help="Measure MySQL/MariaDB at URL instead, e.g. mysql://root@127.0.0.1:3306")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ddl = SHOP.read_text()
        ddl = ddl.replace('"order"', "`order`").replace("AUTOINCREMENT", "AUTO_INCREMENT") if args.mysql \
            else ddl.replace(" AUTOINCREMENT", "")
        (root / "schema.sql").write_text(ddl)
        (root / "conftest.py").write_text(CONFTEST)
        (root / "test_bench.py").write_text(TESTS)
        (root / "pytest.ini").write_text(f"[pytest]\npostgresql_host = {args.host}\npostgresql_port = {args.port}\n"
                                         f"postgresql_user = {args.user}\n")
        times = root / "times.json"
        res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--dbsynth-seed", "1"],
                             cwd=root, env={**os.environ, "TIMES": str(times),
                                            "BACKEND": args.mysql or "postgresql_noproc"},
                             capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit((res.stdout + res.stderr)[-3000:])
        timed = {k: t["setup"] + t.get("teardown", 0.0) for k, t in json.loads(times.read_text()).items()}
    first = next(iter(timed.values()))
    print(f"first test (seeds the 10,200-row template and its working copy): {first * 1000:,.0f} ms")
    for kind in ("reads", "writes"):
        per_test = [v for k, v in list(timed.items())[1:] if f"test_{kind}[" in k]
        print(f"tests that {kind[:-1]}, set-up + teardown: median {statistics.median(per_test) * 1000:.1f} ms, "
              f"max {max(per_test) * 1000:.1f} ms over {len(per_test)} tests (goal ≤ 50 ms)")


if __name__ == "__main__":
    main()
