import sys
from pathlib import Path

from dbsynth.pytest import seeded

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the example's own package, uninstalled

# every test that names `shop_db` gets its own copy of a shop seeded once per session, 100 rows per
# table and only 40 customers; relative paths are relative to this project's rootdir
shop_db = seeded("sqlite", ddl="schema.sql", rows={"customer": 40}, schema_only=True)
