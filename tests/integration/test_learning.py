"""Learn a real database, seed a look-alike: sizes, cardinalities, fidelity, model files."""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

import dbsynth
from dbsynth.connect import create_engine
from dbsynth.errors import DbsynthError
from dbsynth.pipeline import report_databases
from dbsynth.relational import children_per_parent
from dbsynth.report import fidelity_report
from dbsynth.report.utility import ml_utility
from dbsynth.rules.invariants import Equality, NullWhen, Order
from dbsynth.semantics import ColumnKind, key_columns
from tests.conftest import DATASETS, SCHEMAS, chinook_ddl, model_strings, read_frames

PAGILA_DDL = DATASETS / "pagila" / "pagila-schema.sql"


def _ddl(name: str, tmp_path: Path) -> Path:
    return PAGILA_DDL if name == "pagila" else chinook_ddl(tmp_path)


@pytest.mark.parametrize("name", ["pagila", "chinook"])
def test_fit_generate_looks_like_the_source(name: str, source_databases: dict[str, str],
                                            pg_database: Callable[..., str], tmp_path: Path) -> None:
    source = source_databases[name]
    model = dbsynth.fit(source, epsilon=math.inf)
    target = pg_database(_ddl(name, tmp_path))
    dbsynth.write_model(model, target, seed=3)
    real, synth = read_frames(source), read_frames(target)
    for key in real:
        assert abs(len(synth[key]) - len(real[key])) <= 0.10 * len(real[key]) + 1, key
    for t in model.schema.tables:
        for fk in t.foreign_keys:
            if fk.referred == t.key:
                continue
            r = children_per_parent(real[fk.referred], real[t.key], fk).mean()
            s = children_per_parent(synth[fk.referred], synth[t.key], fk).mean()
            assert abs(s - r) <= 0.10 * r + 1e-9, (t.key, fk.columns, r, s)
    if name == "pagila":  # an array of categories: the source's lists, so the source's four elements
        def elements(film: pd.DataFrame) -> set[str]:
            return set(film["special_features"].str.strip("{}").str.split(",").explode().str.strip('"'))

        assert elements(synth["film"]) == elements(real["film"]) and len(elements(real["film"])) == 4
    else:  # a vocabulary (853 composers over 2,525 tracks) is learned as categories, not made-up words
        composers = synth["track"]["composer"].dropna()
        assert len(composers) > 2000 and composers.isin(set(real["track"]["composer"])).all()
    report = report_databases(source, target)
    for table, scores in report.table_scores().items():  # pair trends: where the real data shows one
        if len(report.column_shapes.get(table, {})) >= 2:
            assert scores["column_shapes"] is not None and scores["column_shapes"] >= 0.90, (table, scores)
            assert scores["pair_trends"] is None or scores["pair_trends"] >= 0.85, (table, scores)
    engine = create_engine(target)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_constraint WHERE NOT convalidated").scalar() == 0
    engine.dispose()


def test_child_column_and_count_follow_parent_attribute(pg_database: Callable[..., str]) -> None:
    source = pg_database(SCHEMAS / "learned" / "plan_usage.sql")
    model = dbsynth.fit(source, epsilon=math.inf)
    frames = dbsynth.sample(model, seed=5)
    accounts, charges = frames["account"], frames["charge"]
    joined = charges.merge(accounts, on="account_id")
    amount = joined.groupby("tier")["amount"].apply(lambda s: pd.to_numeric(s).mean())
    assert amount["pro"] > 150 > 30 > amount["basic"]
    per_account = charges.groupby("account_id").size().reindex(accounts["account_id"], fill_value=0)
    per_tier = per_account.groupby(accounts.set_index("account_id")["tier"]).mean()
    assert per_tier["pro"] > 7 > 3 > per_tier["basic"]


def test_scales_and_model_file_round_trip(source_databases: dict[str, str], pg_database: Callable[..., str],
                                          tmp_path: Path) -> None:
    model = dbsynth.fit(source_databases["pagila"], epsilon=math.inf)
    path = dbsynth.save(model, str(tmp_path / "pagila.dbsynth"))
    loaded = dbsynth.load(path)
    a = dbsynth.sample(model, seed=9, scale=0.1)
    b = dbsynth.sample(loaded, seed=9, scale=0.1)
    assert a.keys() == b.keys() and all(a[k].equals(b[k]) for k in a)
    assert 55 <= len(a["customer"]) <= 65 and len(a["language"]) == 1
    big = dbsynth.synthesize(loaded, seed=9, scale=10)
    assert 0.9 * 160_440 <= len(big.frames["rental"]) <= 1.1 * 160_440
    target = pg_database(PAGILA_DDL)
    dbsynth.write_model(loaded, target, scale=10, seed=9)
    counts = {k: len(v) for k, v in read_frames(target).items()}
    assert counts["rental"] == len(big.frames["rental"]) and counts["customer"] == 5990


def test_model_file_holds_no_personal_values_or_keys(source_databases: dict[str, str], tmp_path: Path) -> None:
    source = source_databases["pagila"]
    model = dbsynth.fit(source, epsilon=math.inf)
    path = dbsynth.save(model, str(tmp_path / "m.dbsynth"))
    strings = model_strings(path)
    frames = read_frames(source)
    secrets = set()
    for table, cols in {"customer": ["email", "first_name", "last_name"], "actor": ["first_name", "last_name"],
                        "staff": ["email", "username", "password"], "address": ["address", "phone"],
                        "film": ["title", "description"]}.items():
        for c in cols:
            secrets |= set(frames[table][c].dropna().astype(str))
    assert strings & secrets == set()
    for t in model.schema.tables:
        tm = model.tables[t.key]
        learned = {n for n in tm.generator.discretizers if not n.startswith("#")}
        assert learned.isdisjoint(key_columns(t)), t.key
        assert all(c.kind not in (ColumnKind.PII, ColumnKind.TEXT) for c in tm.columns if c.name in learned)


def test_mismatched_target_lists_the_differences(source_databases: dict[str, str],
                                                 pg_database: Callable[..., str], tmp_path: Path) -> None:
    model = dbsynth.fit(source_databases["chinook"], epsilon=math.inf)
    ddl = chinook_ddl(tmp_path)
    changed = tmp_path / "changed.sql"
    changed.write_text(ddl.read_text() + "\nALTER TABLE genre ADD COLUMN mood varchar(20) NOT NULL;"
                       "\nALTER TABLE track DROP COLUMN composer;\nDROP TABLE playlist_track;\n")
    target = pg_database(changed)
    with pytest.raises(DbsynthError) as info:
        dbsynth.write_model(model, target)
    text = str(info.value)
    assert "column added genre.mood" in text and "column removed track.composer" in text
    assert "table removed playlist_track" in text
    engine = create_engine(target)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM genre")).scalar() == 0
    engine.dispose()


def test_cli_fit_generate_report(source_databases: dict[str, str], pg_database: Callable[..., str],
                                 tmp_path: Path) -> None:
    from tests.integration.test_cli_errors import dbsynth as run

    model = tmp_path / "chinook.dbsynth"
    res = run("fit", source_databases["chinook"], "-o", str(model), "--epsilon", "inf")
    assert res.returncode == 0, res.stderr
    target = pg_database(chinook_ddl(tmp_path))
    res = run("generate", str(model), "--target", target, "--seed", "4")
    assert res.returncode == 0, res.stderr
    res = run("report", source_databases["chinook"], target, "--json", "--target-column", "invoice_line.unit_price")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["overall"]["score"] > 0.9
    assert set(data["overall"]) == {"score", "column_shapes", "pair_trends", "cardinality", "inter_table_trends"}
    assert data["unscored"]["customer"]["email"] == "contact data" and data["unscored"]["track"]["name"] == \
        "near-unique text" and data["unscored"]["invoice"]["invoice_id"] == "key"
    (utility,) = data["utility"]
    assert utility["target"] == "unit_price" and utility["tstr"] > 0.9 * utility["trtr"] > 0.5
    shown = run("report", source_databases["chinook"], target, "--target-column", "invoice.nosuch")
    assert shown.returncode == 2 and "--target-column invoice.nosuch: not a scored column" in shown.stderr
    # the quality gate: passes, fails naming every figure past its limit (one not computed too), or
    # refuses a name it does not know before reading anything
    assert data["gate"]["failed"] == [] and data["gate"]["figures"]["quality"] == data["overall"]["score"]
    passed = run("report", source_databases["chinook"], target, "--fail-under", "quality=0.9,pairs=0.8")
    assert passed.returncode == 0, passed.stderr
    failed = run("report", source_databases["chinook"], target, "--fail-under", "quality=0.999", "--max",
                 "mia_auc=0.6")
    said = " ".join(failed.stderr.split())
    assert failed.returncode == 5 and len(failed.stderr.strip().splitlines()) <= 2, failed.stderr
    assert re.search(r"quality gate failed: quality 0\.9\d\d < 0\.999; mia_auc not computed > 0\.6", said), said
    unknown = run("report", source_databases["chinook"], target, "--fail-under", "beauty=1")
    assert unknown.returncode == 2 and "--fail-under 'beauty=1': expected NAME=NUMBER" in unknown.stderr
    bad = run("fit", source_databases["chinook"], "-o", str(tmp_path / "x.dbsynth"), "--unit", "nosuch")
    assert bad.returncode == 2 and "--unit names unknown table 'nosuch'" in bad.stderr


def test_identifiers_learned_as_shapes_and_personal_values_by_content(pg_database: Callable[..., str],
                                                                       tmp_path: Path) -> None:
    source = pg_database(SCHEMAS / "learned" / "identifiers.sql")
    model = dbsynth.fit(source, epsilon=math.inf)
    kinds = {c.name: c.kind for c in model.tables["shipment"].columns}
    assert kinds["reference"] is ColumnKind.SHAPE
    assert kinds["paid_with"] is kinds["account"] is kinds["origin"] is ColumnKind.PII
    path = dbsynth.save(model, str(tmp_path / "ids.dbsynth"))
    real = read_frames(source)["shipment"]
    with zipfile.ZipFile(path) as z:
        text = z.read("model.json").decode()
    assert not any(v in text for col in ("reference", "paid_with", "account", "origin") for v in real[col])
    said = {c["name"]: c.get("generated", "") for c in json.loads(text)["tables"]["shipment"]["columns"]}
    assert said["paid_with"].startswith("personal data") and said["reference"].startswith("an identifier")
    assert said["shipment_id"].startswith("a key") and said["weight_kg"] == ""  # learned
    synth = dbsynth.sample(model, seed=1)["shipment"]
    assert synth["reference"].str.fullmatch(r"ORD-\d{5}").all()
    assert set(synth["reference"]).isdisjoint(set(real["reference"])) or \
        len(set(synth["reference"]) & set(real["reference"])) < 10  # 90k possible references


def test_kinds_under_dp_come_from_noisy_counts(pg_database: Callable[..., str]) -> None:
    """Under DP a column's kind is a release: noisy counts (Δ·√8 for a string's eight) decide it by
    exact learning's rules, an identifier's shape clears a noisy threshold like a category value, and
    its constant characters (ORD) come from noisy histograms over the public alphabet. Where the noise
    swamps the 500 rows, strings are free text and numbers stay numbers."""
    source = pg_database(SCHEMAS / "learned" / "identifiers.sql")
    model = dbsynth.fit(source, epsilon=40, seed=1, unit="shipment")
    columns = {c.name: c for c in model.tables["shipment"].columns}
    assert columns["reference"].kind is ColumnKind.SHAPE and columns["reference"].shape == "\\O\\R\\D-99999"
    assert columns["paid_with"].kind is columns["account"].kind is columns["origin"].kind is ColumnKind.PII
    assert model.privacy is not None
    entries = {e.component: e for e in model.privacy.entries}
    assert entries["profile reference"].sensitivity == pytest.approx(math.sqrt(8))
    assert entries["profile weight_kg"].sensitivity == pytest.approx(math.sqrt(2))
    assert entries["shape reference"].delta > 0 and model.privacy.spent_delta <= 1e-6 * (1 + 1e-9)
    assert entries["shape characters reference"].sensitivity == pytest.approx(math.sqrt(8))  # 8 positions
    assert dbsynth.sample(model, seed=2)["shipment"]["reference"].str.fullmatch(r"ORD-\d{5}").all()

    swamped = dbsynth.fit(source, epsilon=0.1, seed=1, unit="shipment")
    kinds = {c.name: c.kind for c in swamped.tables["shipment"].columns}
    assert kinds == {"shipment_id": ColumnKind.KEY, "reference": ColumnKind.TEXT, "paid_with": ColumnKind.TEXT,
                     "account": ColumnKind.TEXT, "origin": ColumnKind.TEXT, "weight_kg": ColumnKind.NUMERIC}


def test_learned_order_rule_is_listed_and_holds(source_databases: dict[str, str], tmp_path: Path) -> None:
    from tests.integration.test_cli_errors import dbsynth as run

    model = dbsynth.fit(source_databases["pagila"], epsilon=math.inf)
    assert Order("return_date", "rental_date", strict=True) in model.tables["rental"].rules
    assert not model.tables["film"].rules  # minutes exceed dollars, but that is no rule
    rental = dbsynth.sample(model, seed=6, scale=0.5)["rental"]
    both = rental["return_date"].notna()
    assert (rental.loc[both, "return_date"] > rental.loc[both, "rental_date"]).all()
    path = dbsynth.save(model, str(tmp_path / "pagila.dbsynth"))
    listed = run("rules", str(path))
    assert listed.returncode == 0 and "rental: return_date > rental_date" in listed.stdout


def test_learned_cross_table_equality_holds(source_databases: dict[str, str]) -> None:
    model = dbsynth.fit(source_databases["chinook"], epsilon=math.inf)
    assert Equality("unit_price", "invoice_line(track_id)", "track", "unit_price") in \
        model.tables["invoice_line"].equalities
    assert "unit_price = track.unit_price (through invoice_line(track_id))" in \
        model.tables["invoice_line"].describe_rules()
    frames = dbsynth.sample(model, seed=8)
    joined = frames["invoice_line"].merge(frames["track"][["track_id", "unit_price"]], on="track_id",
                                          suffixes=("", "_track"))
    assert len(joined) == len(frames["invoice_line"]) > 1000
    assert (pd.to_numeric(joined["unit_price"]) == pd.to_numeric(joined["unit_price_track"])).all()


def test_rows_without_their_primary_parent_keep_their_share(pg_database: Callable[..., str],
                                                            tmp_path: Path) -> None:
    """30% of the children have a NULL (nullable) primary FK: generated children keep that share at
    any scale and under --rows, and the rest follow their parents' counts."""
    ddl = tmp_path / "orphans.sql"
    ddl.write_text("""
        CREATE TABLE parent (parent_id integer PRIMARY KEY, v integer NOT NULL);
        CREATE TABLE child (child_id integer PRIMARY KEY, parent_id integer REFERENCES parent, w integer);
        INSERT INTO parent SELECT g, g % 7 FROM generate_series(1, 100) g;
        INSERT INTO child SELECT g, CASE WHEN g % 10 < 3 THEN NULL ELSE 1 + g % 100 END, g % 5
        FROM generate_series(1, 300) g;""")
    model = dbsynth.fit(pg_database(ddl), epsilon=math.inf)
    assert model.tables["child"].null_parent_rate == pytest.approx(0.3)
    for frames, total in ((dbsynth.sample(model, seed=1), 300), (dbsynth.sample(model, seed=1, scale=2), 600),
                          (dbsynth.sample(model, seed=1, rows={"child": 1000}), 1000)):
        child = frames["child"]
        assert len(child) == pytest.approx(total, rel=0.02)
        assert child["parent_id"].isna().mean() == pytest.approx(0.3, abs=0.02)


def test_conditional_nullness_learned_and_copies_kept(source_databases: dict[str, str]) -> None:
    """Chinook's invoices have a billing state exactly for some countries: the rule is learned, holds
    in the output, and enforcing it never breaks a value copied from the customer row."""
    model = dbsynth.fit(source_databases["chinook"], epsilon=math.inf)
    rule = NullWhen("billing_country", ("Brazil", "Canada", "USA"), "billing_state", null=False)
    assert rule in model.tables["invoice"].rules
    frames = dbsynth.sample(model, seed=4)
    invoice = frames["invoice"]
    north = invoice["billing_country"].isin(["Brazil", "Canada", "USA"])
    assert north.sum() > 50 and invoice.loc[north, "billing_state"].notna().all()
    joined = invoice.merge(frames["customer"][["customer_id", "country"]], on="customer_id")
    assert (joined["billing_country"] == joined["country"]).all()


def test_learned_aggregate_recomputes_the_parent(source_databases: dict[str, str]) -> None:
    """Chinook's invoice totals are the sums of their lines: learned, and the generated totals are
    recomputed from the generated lines (invoices without lines total 0)."""
    model = dbsynth.fit(source_databases["chinook"], epsilon=math.inf)
    assert [(a.column, a.child) for a in model.tables["invoice"].aggregates] == [("total", "invoice_line")]
    frames = dbsynth.sample(model, seed=5)
    lines = frames["invoice_line"]
    sums = (pd.to_numeric(lines["unit_price"]) * pd.to_numeric(lines["quantity"])).groupby(lines["invoice_id"]).sum()
    totals = pd.to_numeric(frames["invoice"].set_index("invoice_id")["total"])
    assert len(sums) > 300 and (totals.reindex(sums.index) - sums).abs().max() < 0.005
    assert (totals.drop(sums.index) == 0).all()


def test_model_files_of_format_2_still_load(source_databases: dict[str, str], tmp_path: Path) -> None:
    """Format 2 stored learned rules as SQL text and named no generator kind: such a file, written
    from a fitted Chinook model, loads with the same typed rules and generates the same rows."""
    model = dbsynth.fit(source_databases["chinook"], epsilon=math.inf)
    path = dbsynth.save(model, tmp_path / "new.dbsynth")
    with zipfile.ZipFile(path) as z:
        doc, arrays = json.loads(z.read("model.json")), z.read("arrays.npz")
    doc["version"] = 2
    for key, t in doc["tables"].items():
        t["rules"] = [r.to_sql() for r in model.tables[key].rules]
        del t["generator"]["kind"]
    old = tmp_path / "format2.dbsynth"
    with zipfile.ZipFile(old, "w") as z:
        z.writestr("model.json", json.dumps(doc))
        z.writestr("arrays.npz", arrays)
    loaded = dbsynth.load(old)
    assert sum(len(tm.rules) for tm in loaded.tables.values()) >= 3
    assert {k: tm.rules for k, tm in loaded.tables.items()} == {k: tm.rules for k, tm in model.tables.items()}
    a, b = dbsynth.sample(loaded, seed=3), dbsynth.sample(model, seed=3)
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key])


def test_fk_paths_that_meet_agree_as_in_the_source(source_databases: dict[str, str]) -> None:
    """A Pagila payment's customer is its rental's customer in 16,044 of 16,049 source rows; drawn
    independently they agreed in 19. Exact fits keep the share; at ε = 1 a noisy share of it, each
    rental still paid about once; the report shows the agreement beside SDMetrics' properties."""
    real = read_frames(source_databases["pagila"])
    for epsilon, least in ((math.inf, 0.99), (1.0, 0.5)):
        model = dbsynth.fit(source_databases["pagila"], epsilon=epsilon)
        frames = dbsynth.sample(model, seed=3)
        payment, rental = frames["payment"], frames["rental"]
        joined = payment.merge(rental[["rental_id", "customer_id"]], on="rental_id", suffixes=("", "_rental"))
        assert len(joined) == len(payment) > 1_000  # every payment's rental exists (16,049 in the source)
        assert (joined["customer_id"] == joined["customer_id_rental"]).mean() >= least
        if math.isinf(epsilon):
            assert (payment["rental_id"].value_counts() == 1).mean() > 0.99
        paths = {k: v for k, v in fidelity_report(model.schema, real, frames).path_agreement.items()
                 if "payment(rental_id) → rental(customer_id)" in k}
        assert len(paths) == 1 and next(iter(paths.values()))[0] > 0.999
        assert next(iter(paths.values()))[1] >= least


def test_natural_keys_keep_the_source_shapes(pg_database: Callable[..., str]) -> None:
    """Codes others point at (departments '01' and '2A', towns '75056', schools '0750001A'; no
    PRIMARY KEY anywhere) come out in the source's shapes, each key unique, every FK resolving;
    a town's name is a place name, not made-up words."""
    from dbsynth.semantics import shape_of

    source = pg_database(SCHEMAS / "learned" / "natural_keys.sql")
    real, synth = read_frames(source), dbsynth.sample(dbsynth.fit(source, epsilon=math.inf), seed=5)

    def shapes(values: pd.Series) -> set[str]:
        return set(values.dropna().astype(str).map(shape_of))

    for table, column in [("region", "code"), ("department", "code"), ("town", "insee"), ("school", "uai")]:
        generated = synth[table][column]
        assert generated.is_unique and len(generated) == len(real[table]), (table, column)
        assert shapes(generated) <= shapes(real[table][column]), (table, column, shapes(generated))
    assert shapes(synth["town"]["code"]) == {"999"}
    for child, column, parent, key in [("department", "region_code", "region", "code"),
                                       ("town", "department_code", "department", "code"),
                                       ("school", "insee", "town", "insee")]:
        assert synth[child][column].isin(set(synth[parent][key])).all()
    assert not synth["department"]["name"].isin(set(real["department"]["name"])).any()  # generated, not copied
    assert synth["department"]["name"].str.match(r"^[A-Z][a-z]+( [A-Z][a-z]+)*$").mean() > 0.9


@pytest.mark.parametrize(("name", "targets"), [("pagila", ["rental.return_date", "payment.amount"]),
                                               ("chinook", ["invoice_line.unit_price"])])
def test_train_on_synthetic_predicts_real_rows(name: str, targets: list[str],
                                               source_databases: dict[str, str]) -> None:
    """A model trained on the ε = ∞ copy scores on held-out real rows within 10 % of one trained on
    real rows (a payment's amount follows its rental's days out, learned as the rental's gap)."""
    model = dbsynth.fit(source_databases[name], epsilon=math.inf)
    found = ml_utility(model.schema, read_frames(source_databases[name]), dbsynth.sample(model, seed=7), targets)
    assert [f"{u.table}.{u.target}" for u in found] == targets
    for u in found:
        assert u.trtr > 0.3 and u.tstr >= 0.9 * u.trtr, u
