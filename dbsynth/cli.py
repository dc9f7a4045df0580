"""The ``dbsynth`` command: thin typer commands over the library API.

Data goes to stdout, progress and logs to stderr. Errors are one line on stderr (``--debug``, given
anywhere on the line, shows the traceback). Exit codes:

====  =====================================================================================
0     success
1     runtime error: the database, a constraint, the write (the target is left as it was)
2     usage error: a bad option, argument, URL form or model file
3     ``dbsynth check``: additive drift that ``generate`` follows
4     ``dbsynth check``: breaking drift (refit the model)
130   interrupted (Ctrl-C); nothing was written
====  =====================================================================================
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable
from sqlalchemy.exc import DBAPIError

from dbsynth import model_io
from dbsynth.config import load_config
from dbsynth.connect import DEFAULT_LOCK_TIMEOUT
from dbsynth.errors import DbsynthError, UsageError, database_reason
from dbsynth.learn import fit as fit_model
from dbsynth.pipeline import (
    Inspection,
    SeedResult,
    check_drift,
    inspect_database,
    privacy_databases,
    report_databases,
    seed,
    write_model,
)
from dbsynth.privacy.accountant import DEFAULT_DELTA, DEFAULT_EPSILON
from dbsynth.privacy.units import DEFAULT_CAP, lookup_candidates

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Seed relational databases with synthetic data.\n\nExit codes: 0 success; 1 runtime error "
                       "(database, constraint, write); 2 usage error; check: 3 additive drift, 4 breaking drift; "
                       "130 interrupted.")
err = Console(stderr=True)
out = Console()
_state = {"debug": False}
EXAMPLES = Path(__file__).resolve().parent / "examples"
# options that seed and generate share
LocaleOption = Annotated[str, typer.Option("--locale", help="Faker locale of generated names, addresses…")]
ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help="Rules file (default: ./dbsynth.toml or [tool.dbsynth] in ./pyproject.toml).")]
ToDirOption = Annotated[Path | None, typer.Option(
    "--to-dir", help="Write files here (see --format) instead of a database.")]
FormatOption = Annotated[str, typer.Option("--format", help="With --to-dir: csv, parquet or sql (one data.sql).")]
LockTimeoutOption = Annotated[float, typer.Option(
    "--lock-timeout", help="Seconds to wait for a table another session holds locked, then stop naming it.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary; errors only.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable run summary on stdout.")]


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
          verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False) -> None:
    _state["debug"] = debug
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def parse_rows(values: list[str]) -> tuple[int | None, dict[str, int]]:
    """``--rows N`` sets the default; ``--rows TABLE=N`` one table (repeatable)."""
    default: int | None = None
    per_table: dict[str, int] = {}
    for v in values:
        name, sep, count = v.rpartition("=")
        try:
            n = int(count)
        except ValueError:
            raise UsageError(f"--rows {v!r}: expected N or TABLE=N with N a whole number") from None
        if n < 0:
            raise UsageError(f"--rows {v!r}: a row count must not be negative")
        if sep:
            per_table[name] = n
        else:
            default = n
    return default, per_table


def _inspection_json(ins: Inspection) -> dict[str, Any]:
    return {
        "dialect": ins.schema.dialect,
        "order": list(ins.plan.order),
        "tables": [{
            "name": key,
            "rows": ins.row_counts[key],
            "primary_key": list(t.primary_key.columns) if t.primary_key else None,
            "foreign_keys": [{"columns": list(f.columns), "references": f.referred,
                              "referred_columns": list(f.referred_columns),
                              "deferrable": f.deferrable} for f in t.foreign_keys],
            "unique": [list(u.columns) for u in t.uniques],
            "checks": [c.sqltext for c in t.checks],
            "partitions": list(t.partitions),
        } for key in ins.plan.order for t in [ins.schema.table(key)]],
        "partitions_not_written": list(ins.schema.skipped),
        "cycles": [list(c) for c in ins.plan.cycles],
        "deferred": [{"table": d.table, "columns": list(d.fk.columns), "references": d.fk.referred,
                      "strategy": str(d.strategy)} for d in ins.plan.deferred],
        "self_references": [{"table": t, "columns": list(f.columns)} for t, f in ins.plan.self_references],
    }


@app.command()
def inspect(
    url: Annotated[str, typer.Argument(help="Database URL, e.g. postgresql://user@host/db")],
    schema: Annotated[list[str] | None, typer.Option("--schema", help="Schema to read (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Tables in insertion order with row counts, keys, cycles and how they are broken."""
    ins = inspect_database(url, schemas=schema)
    if as_json:
        out.print_json(json.dumps(_inspection_json(ins)))
        return
    tbl = RichTable(title=f"{ins.schema.dialect}: {len(ins.plan.order)} tables in insertion order")
    for col in ("#", "table", "rows", "primary key", "foreign keys"):
        tbl.add_column(col)
    for i, key in enumerate(ins.plan.order, 1):
        t = ins.schema.table(key)
        fks = "; ".join(f"({', '.join(f.columns)}) → {f.referred}" for f in t.foreign_keys)
        tbl.add_row(str(i), key, str(ins.row_counts[key]),
                    ", ".join(t.primary_key.columns) if t.primary_key else "—", fks or "—")
    out.print(tbl)
    for d in ins.plan.deferred:
        out.print(f"cycle broken at {d.describe()}", markup=False)
    for key, fk in ins.plan.self_references:
        out.print(f"self-reference {fk.describe(key)}: rows point at earlier rows")


def _print_result(result: SeedResult, target: str, *, quiet: bool = False, as_json: bool = False) -> None:
    if as_json:
        out.print_json(json.dumps({"target": target, **result.to_json()}))
    if quiet or as_json:
        return
    total = sum(result.rows.values())
    gen_rate = total / result.generate_seconds if result.generate_seconds else float("inf")
    write_rate = total / result.write_seconds if result.write_seconds else float("inf")
    err.print(f"[green]seeded {total:,} rows into {len(result.rows)} tables[/green] of {target}: "
              f"generated in {result.generate_seconds:.2f}s ({gen_rate:,.0f} rows/s), "
              f"written in {result.write_seconds:.2f}s ({write_rate:,.0f} rows/s)")
    unchecked = sorted({u for r in result.reports.values() for u in r.unchecked})
    if unchecked:
        err.print(f"[yellow]checked by the database at write time:[/yellow] {'; '.join(unchecked)}")
    acted = [(t, r) for t, rep in result.reports.items() for r in rep.rows() if r["rejected"] or r["repaired"]]
    checks = sum(len(rep.checked) for rep in result.reports.values())
    err.print(f"rules: {checks} checked, {len(acted)} acted on" + ("" if not acted else ": " + "; ".join(
        f"{t} {r['rule']} ({r['rejected']:,} rejected, {r['resampled']:,} resampled, {r['repaired']:,} repaired"
        + (f", dropped on {r['dropped']:,} rows" if r["dropped"] else "") + ")"
        for t, r in acted)), highlight=False)


def _with_progress(run: Any, label: str, *, quiet: bool = False, as_json: bool = False,
                   **kwargs: Any) -> SeedResult:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True, disable=quiet or as_json) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, table: str, n: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=None)
            bar.update(tasks[stage], advance=1, description=f"{stage} {table} ({n:,} rows)")

        result: SeedResult = run(progress=progress, **kwargs)
    _print_result(result, label, quiet=quiet, as_json=as_json)
    return result


def _run_seed(target: str, *, label: str, **kwargs: Any) -> SeedResult:
    return _with_progress(lambda **kw: seed(target, **kw), label, **kwargs)


@app.command("seed")
def seed_cmd(
    url: Annotated[str, typer.Argument(help="Target database URL; its own schema is seeded.")],
    rows: Annotated[list[str] | None, typer.Option(
        "--rows", help="N rows per table (default 1000), or TABLE=N for one table; repeatable.")] = None,
    seed_: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same rows.")] = 0,
    truncate: Annotated[bool, typer.Option("--truncate", help="Replace rows already in the target.")] = False,
    create_schema: Annotated[bool, typer.Option(
        "--create-schema", help="Create the tables (from --schema-from) in an empty target.")] = False,
    schema_from: Annotated[str | None, typer.Option(
        "--schema-from", help="Read the schema from this database instead of the target.")] = None,
    schema: Annotated[list[str] | None, typer.Option("--schema", help="Schema to seed (repeatable).")] = None,
    to_dir: ToDirOption = None,
    format_: FormatOption = "csv",
    locale: LocaleOption = "en_US",
    config: ConfigOption = None,
    lock_timeout: LockTimeoutOption = DEFAULT_LOCK_TIMEOUT,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Seed a database from its schema alone (no source rows needed)."""
    default, per_table = parse_rows(rows or [])
    _run_seed(url, label=str(to_dir) if to_dir else url.split("@")[-1], rows=per_table,
              default_rows=1000 if default is None else default, seed=seed_, truncate=truncate,
              create_schema=create_schema, schema_from=schema_from, schemas=schema, to_dir=to_dir, format=format_,
              locale=locale, config=load_config(config), lock_timeout=lock_timeout, quiet=quiet, as_json=as_json)


@app.command("fit")
def fit_cmd(
    url: Annotated[str, typer.Argument(help="Source database URL to learn from.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write.")],
    schema: Annotated[list[str] | None, typer.Option("--schema", help="Schema to read (repeatable).")] = None,
    epsilon: Annotated[float, typer.Option(
        "--epsilon", help="Differential-privacy budget ε for the whole fit; 'inf' turns noise off.")]
    = DEFAULT_EPSILON,
    delta: Annotated[float, typer.Option("--delta", help="δ of (ε, δ)-DP.")] = DEFAULT_DELTA,
    public: Annotated[list[str] | None, typer.Option(
        "--public", help="A non-personal lookup table learned without noise (repeatable).")] = None,
    cap: Annotated[int, typer.Option("--cap", help="Children per parent used in learning, per privacy unit.")]
    = DEFAULT_CAP,
    holdout: Annotated[float, typer.Option(
        "--holdout", help="Fraction of private rows set aside for the privacy report.")] = 0.0,
    seed_: Annotated[int, typer.Option("--seed", help="Seed of the privacy noise and the holdout split.")] = 0,
) -> None:
    """Learn a model of a database and save it as a model file (no row of it is stored)."""
    model_io.check_output(output)
    model = fit_model(url, schemas=schema, epsilon=epsilon, delta=delta, public=public or [], cap=cap,
                      holdout=holdout, seed=seed_)
    model_io.save(model, output)
    rows = sum(t.rows for t in model.tables.values())
    acc = model.privacy
    dp = "no noise (ε = ∞)" if acc is None or epsilon == float("inf") else \
        f"ε spent {acc.spent_epsilon:.3g} of {epsilon:g}, δ {acc.spent_delta:.2g} of {delta:g}"
    err.print(f"[green]learned {len(model.tables)} tables ({rows:,} rows)[/green], {dp} → {output}")
    swamped = [(e.table, e.scale, model.tables[e.table].rows) for e in (model.privacy.entries if model.privacy else [])
               if e.component == "row count" and e.scale > 0.25 * max(model.tables[e.table].rows, 1)]
    if swamped:
        err.print("[yellow]noise swamps the row counts of[/yellow] " + ", ".join(
            f"{t} (σ ≈ {s:,.0f} rows, ~{n:,} learned)" for t, s, n in swamped)
            + ": their shape is mostly lost. Mark non-personal lookup tables --public (each private table "
              "shares the budget and multiplies the rows one person reaches), lower --cap, or raise --epsilon",
            highlight=False)
        lookups = [t for t in lookup_candidates(model.schema, model.plan) if t not in model.public]
        if lookups:
            err.print("tables with no personal-looking column or parent (check before marking them): "
                      + " ".join(f"--public {t}" for t in lookups), highlight=False)


@app.command("rules")
def rules_cmd(model_path: Annotated[Path, typer.Argument(help="Model file written by dbsynth fit.")]) -> None:
    """The rules a model learned (invariants of every source row) and enforces when generating."""
    model = model_io.load(model_path)
    found = [(key, rule) for key, tm in model.tables.items() for rule in tm.describe_rules()]
    for key, rule in found:  # one line each, as disable_learned names them
        out.print(f"{key}: {rule}", soft_wrap=True, highlight=False, markup=False)
    if not found:
        out.print("no learned rules")
    for key, tm in model.tables.items():
        for note in tm.rule_notes:
            err.print(f"[yellow]{key}:[/yellow] {note}")


@app.command("privacy")
def privacy_cmd(
    model_path: Annotated[Path, typer.Argument(help="Model file written by dbsynth fit.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The privacy ledger of a model file: every release, its mechanism and its budget."""
    model = model_io.load(model_path)
    acc = model.privacy
    if acc is None or acc.epsilon == float("inf"):
        out.print("no differential privacy: this model was fitted with ε = ∞ (exact statistics)")
        return
    if as_json:
        out.print_json(json.dumps({**acc.to_json(), "public": list(model.public), "cap": model.cap}))
        return
    tbl = RichTable(title=f"privacy ledger: (ε={acc.epsilon:g}, δ={acc.delta:g})-DP per privacy unit")
    for col in ("table", "release", "mechanism", "ρ", "δ", "sensitivity", "noise scale"):
        tbl.add_column(col)
    for e in acc.entries:
        tbl.add_row(e.table, e.component, e.mechanism, f"{e.rho:.3g}", f"{e.delta:.2g}" if e.delta else "",
                    f"{e.sensitivity:g}", f"{e.scale:.3g}")
    out.print(tbl)
    out.print(f"spent: ρ = {acc.spent_rho:.4g} of {acc.total_rho:.4g} → ε = {acc.spent_epsilon:.4g} "
              f"of {acc.epsilon:g}; δ = {acc.spent_delta:.3g} of {acc.delta:g} ({acc.conversion_delta:g} for "
              f"ε, the rest by {acc.thresholds} thresholded releases); public tables: "
              f"{', '.join(model.public) or 'none'}; children per parent capped at {model.cap}")


@app.command("generate")
def generate_cmd(
    model_path: Annotated[Path, typer.Argument(help="Model file written by dbsynth fit.")],
    target: Annotated[str | None, typer.Option("--target", help="Database URL to write to.")] = None,
    scale: Annotated[float, typer.Option("--scale", help="Multiply the root tables' row counts.")] = 1.0,
    rows: Annotated[list[str] | None, typer.Option("--rows", help="TABLE=N for one table; repeatable.")] = None,
    seed_: Annotated[int, typer.Option("--seed")] = 0,
    truncate: Annotated[bool, typer.Option("--truncate")] = False,
    create_schema: Annotated[bool, typer.Option("--create-schema")] = False,
    to_dir: ToDirOption = None,
    format_: FormatOption = "csv",
    locale: LocaleOption = "en_US",
    config: ConfigOption = None,
    lock_timeout: LockTimeoutOption = DEFAULT_LOCK_TIMEOUT,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Generate synthetic rows from a model file into a database (or files). A target whose schema
    drifted additively (new nullable/defaulted columns, new tables) is filled schema-only there,
    with a warning; any other drift stops before writing (see dbsynth check)."""
    default, per_table = parse_rows(rows or [])
    if default is not None:
        raise UsageError("generate takes --rows TABLE=N (a model knows its own sizes; use --scale)")
    model = model_io.load(model_path)
    _with_progress(lambda **kw: write_model(model, target, **kw),
                   str(to_dir) if to_dir else (target or "").split("@")[-1],
                   scale=scale, rows=per_table, seed=seed_, truncate=truncate, create_schema=create_schema,
                   to_dir=to_dir, format=format_, locale=locale, config=load_config(config),
                   lock_timeout=lock_timeout, quiet=quiet, as_json=as_json)


@app.command("check")
def check_cmd(
    model_path: Annotated[Path, typer.Argument(help="Model file written by dbsynth fit.")],
    against: Annotated[str, typer.Option("--against", help="Database URL whose schema to compare.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Schema drift between a model and a live database. Exit 0: unchanged; 3: additive drift (generate
    fills the additions schema-only); 4: breaking drift (refit, or generate refuses); 1 and 2: an error."""
    model = model_io.load(model_path)
    found = check_drift(model, against)
    if as_json:
        out.print_json(json.dumps(found.to_json()))
    else:
        for change in found.changes:
            style = "red" if change.severity == "error" else "yellow"
            out.print(f"[{style}]{change.severity}[/{style}] {change.describe()}", highlight=False)
        verdict = {0: "[green]no drift[/green]: the model matches the database",
                   3: "[yellow]compatible[/yellow]: generate fills the additions schema-only",
                   4: "[red]incompatible[/red]: refit the model on the migrated database"}[found.exit_code]
        out.print(verdict)
    raise typer.Exit(found.exit_code)


@app.command("report")
def report_cmd(
    real: Annotated[str, typer.Argument(help="URL of the real database.")],
    synth: Annotated[str, typer.Argument(help="URL of the synthetic database.")],
    schema: Annotated[list[str] | None, typer.Option("--schema")] = None,
    model_path: Annotated[Path | None, typer.Option(
        "--model", help="The model the synthetic data came from: adds the privacy report.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fidelity of a synthetic database against the real one (SDMetrics' four properties), and with
    --model the privacy report (exact matches, distance to closest record, membership inference)."""
    rep = report_databases(real, synth, schemas=schema)
    priv = privacy_databases(real, synth, model_io.load(model_path)) if model_path else None
    if as_json:
        doc = rep.to_json()
        if priv is not None:
            doc["privacy"] = [asdict(p) for p in priv]
        out.print_json(json.dumps(doc))
        return
    tbl = RichTable(title="fidelity (1.0 = indistinguishable)")
    for col in ("table", "column shapes", "pair trends"):
        tbl.add_column(col)

    def fmt(v: float | None) -> str:
        return "—" if v is None else f"{v:.3f}"

    for t, scores in rep.table_scores().items():
        tbl.add_row(t, fmt(scores["column_shapes"]), fmt(scores["pair_trends"]))
    out.print(tbl)
    for k, v in rep.overall().items():
        out.print(f"{k}: {fmt(v)}")
    if priv:
        ptbl = RichTable(title="privacy (per private table)")
        for col in ("table", "exact matches", "DCR synthetic", "DCR holdout", "ratio", "MIA AUC"):
            ptbl.add_column(col)
        for p in priv:
            ptbl.add_row(p.table, f"{p.exact_match_rate:.3f}", f"{p.dcr_synthetic:.4f}", f"{p.dcr_holdout:.4f}",
                         f"{p.dcr_ratio:.2f}", f"{p.mia_auc:.3f}")
        out.print(ptbl)


@app.command()
def demo(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the seeded SQLite file.")]
    = Path("dbsynth-demo.sqlite"),
    rows: Annotated[int, typer.Option("--rows", help="Rows per table.")] = 200,
    seed_: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Seed the bundled shop schema into a new SQLite file; needs no server."""
    if out_path.exists():
        raise UsageError(f"{out_path} already exists; remove it or pass --out elsewhere")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "shop.sqlite"
        with sqlite3.connect(work) as db:
            db.executescript((EXAMPLES / "shop.sql").read_text())
        _run_seed(f"sqlite:///{work}", label=str(out_path), default_rows=rows, seed=seed_)
        shutil.copy(work, out_path)
    ins = inspect_database(f"sqlite:///{out_path}")
    tbl = RichTable(title=f"{out_path}: the bundled shop schema, seeded")
    tbl.add_column("table")
    tbl.add_column("rows", justify="right")
    for key in ins.plan.order:
        tbl.add_row(key, f"{ins.row_counts[key]:,}")
    out.print(tbl)
    out.print(f"Look inside: sqlite3 {out_path} 'SELECT * FROM customer LIMIT 5'")


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: every failure is one line on stderr and an exit code (module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args:  # accepted anywhere, not only before the subcommand
        args = ["--debug", *(a for a in args if a != "--debug")]
        _state["debug"] = True
    try:
        app(args, prog_name="dbsynth")  # typer prints its own usage errors and exits 2
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except DbsynthError as exc:
        if _state["debug"]:
            raise
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        code = 2 if isinstance(exc, UsageError) else 1
    except DBAPIError as exc:  # the database's own refusal outside a write (reading a source, a report …)
        if _state["debug"]:
            raise
        err.print(f"[red]error:[/red] the database answered: {escape(database_reason(exc))}", highlight=False,
                  soft_wrap=True)
        code = 1
    except Exception as exc:  # a bug: still one line, and the way to the traceback
        if _state["debug"]:
            raise
        err.print(f"[red]error:[/red] unexpected {type(exc).__name__}: {escape(str(exc))} (a bug in dbsynth; "
                  "rerun with --debug and report the traceback)", highlight=False, soft_wrap=True)
        code = 1
    if code == 130:  # typer turns Ctrl-C into exit code 130
        code = _interrupted()
    sys.exit(code)


def _interrupted() -> int:
    err.print("interrupted; nothing was written", highlight=False)
    return 130
