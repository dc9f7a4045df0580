"""What a seeded PostgreSQL database costs a test: a pytest project of 40 tests using
``dbsynth.pytest.seeded("postgresql_noproc", ddl=…, rows=1700)`` (the demo shop, 6 tables, 10,200
rows), run in a subprocess; prints the first test's set-up (it seeds the template) and the median
set-up + teardown of the other 39 (clone from the template, drop after the test), in one run.

    python benchmarks/fixture_overhead.py [--host 127.0.0.1] [--port 5432] [--user postgres]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop.sql"

CONFTEST = '''
import json, os
from dbsynth.pytest import seeded
shop_db = seeded("postgresql_noproc", ddl="schema.sql", rows=1700)
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
def test_uses_a_fresh_database(shop_db, i):
    with shop_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM order_line")).scalar() == 1700
'''


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", default="5432")
    ap.add_argument("--user", default="postgres")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "schema.sql").write_text(SHOP.read_text().replace(" AUTOINCREMENT", ""))
        (root / "conftest.py").write_text(CONFTEST)
        (root / "test_bench.py").write_text(TESTS)
        (root / "pytest.ini").write_text(f"[pytest]\npostgresql_host = {args.host}\npostgresql_port = {args.port}\n"
                                         f"postgresql_user = {args.user}\n")
        times = root / "times.json"
        res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--dbsynth-seed", "1"],
                             cwd=root, env={**__import__("os").environ, "TIMES": str(times)},
                             capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit((res.stdout + res.stderr)[-3000:])
        per_test = [t["setup"] + t.get("teardown", 0.0) for t in json.loads(times.read_text()).values()]
    first, rest = per_test[0], per_test[1:]
    print(f"first test (seeds the 10,200-row template): {first * 1000:,.0f} ms")
    print(f"every later test, set-up + teardown: median {statistics.median(rest) * 1000:.1f} ms, "
          f"max {max(rest) * 1000:.1f} ms over {len(rest)} tests (goal ≤ 50 ms)")


if __name__ == "__main__":
    main()
