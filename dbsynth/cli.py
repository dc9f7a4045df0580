"""The ``dbsynth`` command: thin typer commands over the library API.

Data goes to stdout, progress and logs to stderr. Errors are one line on stderr (``--debug``, given
anywhere on the line, shows the traceback). Exit codes:

====  =====================================================================================
0     success
1     runtime error: the database, a constraint, the write (the target is left as it was)
2     usage error: a bad option, argument, URL form or model file
3     ``dbsynth check``: additive drift that ``generate`` follows
4     ``dbsynth check``: breaking drift (refit the model)
5     ``dbsynth report --fail-under/--max``: a figure crossed its limit (the quality gate)
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
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import DBAPIError

from dbsynth import cli_show as show
from dbsynth import model_io
from dbsynth.config import load_config
from dbsynth.connect import DEFAULT_LOCK_TIMEOUT
from dbsynth.errors import DbsynthError, UsageError, database_reason
from dbsynth.learn import DEFAULT_ENGINE, ENGINES
from dbsynth.learn import fit as fit_model
from dbsynth.pipeline import (
    SeedResult,
    check_drift,
    expected_rows,
    inspect_database,
    privacy_databases,
    report_databases,
    seed,
    write_model,
)
from dbsynth.privacy.accountant import DEFAULT_DELTA, DEFAULT_EPSILON
from dbsynth.privacy.units import DEFAULT_CAP
from dbsynth.report.gate import CEILINGS, FLOORS, Gate, GateError, figures, parse_limits

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Seed relational databases with synthetic data.\n\nExit codes: 0 success; 1 runtime error "
                       "(database, constraint, write); 2 usage error; check: 3 additive drift, 4 breaking drift; "
                       "report: 5 quality gate failed; 130 interrupted.")
err = Console(stderr=True)
out = Console()
_state = {"debug": False}
EXAMPLES = Path(__file__).resolve().parent / "examples"
# options that seed and generate share
LocaleOption = Annotated[str, typer.Option("--locale", help="Faker locale of generated names, addresses…")]
NamesOption = Annotated[str, typer.Option(
    "--names", help="real: the locale's names, e-mails made from them at example domains; invented: "
                    "pronounceable names on no list of real names.")]
ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help="Rules file (default: ./dbsynth.toml or [tool.dbsynth] in ./pyproject.toml).")]
ToDirOption = Annotated[Path | None, typer.Option(
    "--to-dir", help="Write files here (see --format) instead of a database.")]
FormatOption = Annotated[str, typer.Option("--format", help="With --to-dir: csv, parquet or sql (one data.sql).")]
LockTimeoutOption = Annotated[float, typer.Option(
    "--lock-timeout", help="Seconds to wait for a table another session holds locked, then stop naming it.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary; errors only.")]
WhereOption = Annotated[list[str] | None, typer.Option(
    "--where", help="A condition the table's rows meet, written TABLE.COLUMN > 20 (any SQL condition over one "
                    "table's columns); repeatable.")]
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


@app.command()
def inspect(
    url: Annotated[str, typer.Argument(help="Database URL, e.g. postgresql://user@host/db")],
    schema: Annotated[list[str] | None, typer.Option("--schema", help="Schema to read (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Tables in insertion order with row counts, keys, cycles and how they are broken."""
    show.inspection(out, inspect_database(url, schemas=schema), as_json=as_json)


def _run_seed(target: str, *, label: str, **kwargs: Any) -> SeedResult:
    return show.with_progress(err, out, lambda **kw: seed(target, **kw), label, **kwargs)


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
    names: NamesOption = "real",
    config: ConfigOption = None,
    lock_timeout: LockTimeoutOption = DEFAULT_LOCK_TIMEOUT,
    where: WhereOption = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Seed a database from its schema alone (no source rows needed)."""
    default, per_table = parse_rows(rows or [])
    _run_seed(url, label=str(to_dir) if to_dir else url.split("@")[-1], rows=per_table,
              default_rows=1000 if default is None else default, seed=seed_, truncate=truncate,
              create_schema=create_schema, schema_from=schema_from, schemas=schema, to_dir=to_dir, format=format_,
              locale=locale, names=names, config=load_config(config), lock_timeout=lock_timeout, quiet=quiet,
              as_json=as_json, where=where or [])


@app.command("fit")
def fit_cmd(
    url: Annotated[str, typer.Argument(help="Source database URL to learn from.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write.")],
    schema: Annotated[list[str] | None, typer.Option("--schema", help="Schema to read (repeatable).")] = None,
    epsilon: Annotated[float, typer.Option(
        "--epsilon", help="Differential-privacy budget ε for the whole fit; 'inf' turns noise off.")]
    = DEFAULT_EPSILON,
    delta: Annotated[float, typer.Option("--delta", help="δ of (ε, δ)-DP.")] = DEFAULT_DELTA,
    unit: Annotated[str | None, typer.Option(
        "--unit", help="The table whose rows are the people (the privacy unit); its rows and every row that "
                       "references them are private, the other tables reference data. Default: proposed "
                       "from the schema.")] = None,
    cap: Annotated[int, typer.Option("--cap", help="Children per parent used in learning, per privacy unit.")]
    = DEFAULT_CAP,
    holdout: Annotated[float, typer.Option(
        "--holdout", help="Fraction of private rows set aside for the privacy report.")] = 0.0,
    seed_: Annotated[int, typer.Option(
        "--seed", help="Seed of the fit's choices (capping, the holdout split); the privacy noise is never seeded.")]
    = 0,
    engine: Annotated[str, typer.Option(
        "--engine", help=f"Generator learned under DP: {' or '.join(ENGINES)} (--epsilon inf: bayesnet).")]
    = DEFAULT_ENGINE,
    generator: Annotated[list[str] | None, typer.Option(
        "--generator", help="neural (every table) or TABLE=neural (one; repeatable): the torch generator trained "
                            "with DP-SGD, extra dbsynth[neural]; also bayesnet or marginal.")] = None,
    device: Annotated[str, typer.Option("--device", help="Where neural generators train: cpu or cuda.")] = "cpu",
) -> None:
    """Learn a model of a database and save it as a model file (no row of it is stored)."""
    model_io.check_output(output)
    per_table = dict(g.split("=", 1) for g in generator or [] if "=" in g)
    everywhere = [g for g in generator or [] if "=" not in g]
    if len(everywhere) > 1:
        raise UsageError(f"--generator {everywhere[1]}: give one generator for every table, or TABLE=GENERATOR")
    model = show.with_training(err, lambda training: fit_model(
        url, schemas=schema, epsilon=epsilon, delta=delta, unit=unit, cap=cap, holdout=holdout, seed=seed_,
        engine=everywhere[0] if everywhere else engine, generators=per_table, device=device, training=training))
    model_io.save(model, output)
    show.fitted(err, model, epsilon, delta, output)


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
    show.ledger(out, model_io.load(model_path), as_json=as_json)


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
    names: NamesOption = "real",
    config: ConfigOption = None,
    lock_timeout: LockTimeoutOption = DEFAULT_LOCK_TIMEOUT,
    where: WhereOption = None,
    boost: Annotated[list[str] | None, typer.Option(
        "--boost", help="TABLE.COLUMN=VALUE:SHARE: that share of the table's rows take the value, drawn "
                        "from the model given it (one per table).")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", help="Processes generating partitions on this machine (a local Dask cluster; "
                          "the rows are the same for any number).")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Address of a dask.distributed scheduler to generate the partitions on "
                            "(tcp://host:8786); its workers need dbsynth installed.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Rows per COPY write.")] = 10_000,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Generate synthetic rows from a model file into a database (or files). A target whose schema
    drifted additively (new nullable/defaulted columns, new tables) is filled schema-only there,
    with a warning; any other drift stops before writing (see dbsynth check). --where and --boost
    generate a scenario: rows drawn from the model given the condition, their related rows with them."""
    default, per_table = parse_rows(rows or [])
    if default is not None:
        raise UsageError("generate takes --rows TABLE=N (a model knows its own sizes; use --scale)")
    model = model_io.load(model_path)
    show.with_progress(err, out, lambda **kw: write_model(model, target, **kw),
                   str(to_dir) if to_dir else (target or "").split("@")[-1],
                   expected=expected_rows(model, scale=scale, rows=per_table),
                   scale=scale, rows=per_table, seed=seed_, truncate=truncate, create_schema=create_schema,
                   to_dir=to_dir, format=format_, locale=locale, names=names, config=load_config(config),
                   lock_timeout=lock_timeout, quiet=quiet, as_json=as_json, where=where or [], boost=boost or [],
                   workers=workers, scheduler=scheduler, batch_size=batch_size)


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
    ml: Annotated[bool, typer.Option("--ml", help="Also train on synthetic, test on real (TSTR) for every "
                                     "table's most predictable category.")] = False,
    target: Annotated[list[str] | None, typer.Option("--target-column", help="TSTR for this table.column "
                                                     "(repeatable).")] = None,
    fail_under: Annotated[str | None, typer.Option(
        "--fail-under", help=f"Exit 5 when a figure is below its limit: NAME=N,… ({', '.join(FLOORS)}).")] = None,
    most: Annotated[str | None, typer.Option(
        "--max", help=f"Exit 5 when a figure is above its limit: NAME=N,… ({', '.join(CEILINGS)}).")] = None,
    html_path: Annotated[Path | None, typer.Option(
        "--html", help="Also write the report as one self-contained HTML file (matplotlib: dbsynth[report]).")]
    = None,
) -> None:
    """Fidelity of a synthetic database against the real one (SDMetrics' four properties), and with
    --model the privacy report (exact matches, distance to closest record, membership inference);
    with --ml or --target-column the machine-learning utility (scikit-learn: dbsynth[report]); with
    --fail-under / --max a quality gate for CI (exit code 5, the failing figures named)."""
    gate = Gate(parse_limits(fail_under, "--fail-under", FLOORS), parse_limits(most, "--max", CEILINGS))
    model = model_io.load(model_path) if model_path else None
    priv = privacy_databases(real, synth, model) if model else None
    rep = report_databases(real, synth, schemas=schema, ml=ml, targets=target or (), html=html_path, privacy=priv,
                           model=model)
    found = figures(rep, priv)
    failed = gate.failures(found)
    show.report(out, rep, priv, as_json=as_json, gate={"figures": found, "failed": failed})
    if failed:
        raise GateError(f"quality gate failed: {'; '.join(failed)}")


@app.command()
def demo(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the generated SQLite file.")]
    = Path("dbsynth-demo.sqlite"),
    seed_: Annotated[int, typer.Option("--seed")] = 0,
    schema_only: Annotated[bool, typer.Option(
        "--schema-only", help="Seed the bundled shop schema from the schema alone instead.")] = False,
    rows: Annotated[int, typer.Option("--rows", help="Rows per table (with --schema-only).")] = 200,
) -> None:
    """The main job on a bundled database, no server needed: learn Chinook (SQLite, MIT licence) at
    the default privacy, generate a private look-alike into a new SQLite file, and score it."""
    if out_path.exists():
        raise UsageError(f"{out_path} already exists; remove it or pass --out elsewhere")
    with tempfile.TemporaryDirectory() as tmp:
        if schema_only:
            work = Path(tmp) / "shop.sqlite"
            with sqlite3.connect(work) as db:
                db.executescript((EXAMPLES / "shop.sql").read_text())
            _run_seed(f"sqlite:///{work}", label=str(out_path), default_rows=rows, seed=seed_)
            shutil.copy(work, out_path)
            show.demo(out, inspect_database(f"sqlite:///{out_path}"), out_path)
            return
        source = Path(tmp) / "chinook.sqlite"
        shutil.copy(EXAMPLES / "chinook.sqlite", source)
        model = fit_model(f"sqlite:///{source}", seed=seed_)
        show.fitted(err, model, DEFAULT_EPSILON, DEFAULT_DELTA, out_path)
        write_model(model, f"sqlite:///{out_path}", create_schema=True, seed=seed_)
        rep = report_databases(f"sqlite:///{source}", f"sqlite:///{out_path}")
        real = inspect_database(f"sqlite:///{source}")
    show.learned_demo(out, model, rep, real, inspect_database(f"sqlite:///{out_path}"), out_path)


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
        code = 2 if isinstance(exc, UsageError) else 5 if isinstance(exc, GateError) else 1
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
