"""What the ``dbsynth`` commands print: rich tables on stdout, summaries and progress on stderr,
``--json`` documents for machines. :mod:`dbsynth.cli` parses the arguments and calls these."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from dbsynth.model import Model
from dbsynth.pipeline import Inspection, SeedResult

if TYPE_CHECKING:
    from dbsynth.report.fidelity import FidelityReport
    from dbsynth.report.privacy import TablePrivacy

__all__ = ["demo", "fitted", "inspection", "ledger", "report", "seeded", "with_progress"]


def inspection(out: Console, ins: Inspection, *, as_json: bool) -> None:
    """Tables in insertion order with row counts, keys, cycles and how they are broken."""
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


def seeded(err: Console, out: Console, result: SeedResult, target: str, *, quiet: bool = False,
           as_json: bool = False) -> None:
    """A seed or generate run's summary: rows, speeds, and the rules that acted."""
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


def with_progress(err: Console, out: Console, run: Callable[..., SeedResult], label: str, *, quiet: bool = False,
                  as_json: bool = False, expected: int | None = None, **kwargs: Any) -> SeedResult:
    """``run(progress=…, **kwargs)`` under a progress bar per stage, then its summary; with the
    ``expected`` number of rows the bars show how much is done and the time left."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=err, transient=True, disable=quiet or as_json) as bar:
        tasks: dict[str, Any] = {}
        rows: dict[str, int] = {}
        started: dict[str, float] = {}

        def progress(stage: str, table: str, n: int) -> None:
            """One line per stage: the rows so far over every table and worker, and rows/s."""
            if stage not in tasks:
                tasks[stage], started[stage] = bar.add_task(stage, total=expected), time.perf_counter()
            rows[stage] = rows.get(stage, 0) + n
            rate = rows[stage] / max(time.perf_counter() - started[stage], 1e-9)
            total = None if expected is None else max(expected, rows[stage])  # the sizes are drawn: about expected
            bar.update(tasks[stage], completed=rows[stage], total=total,
                       description=f"{stage} {table} ({rows[stage]:,} rows, {rate:,.0f}/s)")

        result: SeedResult = run(progress=progress, **kwargs)
    seeded(err, out, result, label, quiet=quiet, as_json=as_json)
    return result


def with_training(err: Console, fit: Callable[[Callable[[str, int, float, float], None]], Model]) -> Model:
    """``fit(training)`` with a line on stderr that a neural generator's training updates: the table,
    the epoch, the loss and, under DP, the ε its steps have spent."""
    with Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("fitting", total=None)

        def training(table: str, epoch: int, loss: float, epsilon: float) -> None:
            spent = f", ε {epsilon:.3g} spent" if epsilon else ""
            bar.update(task, description=f"training {table}: epoch {epoch}, loss {loss:.3f}{spent}")

        return fit(training)


def fitted(err: Console, model: Model, epsilon: float, delta: float, output: Path) -> None:
    """What a fit learned and spent, what it protects and what not, and which row counts the noise
    swamps (with what to do)."""
    rows = sum(t.rows for t in model.tables.values())
    acc = model.privacy
    dp = "no noise (ε = ∞)" if acc is None or model.unit is None else \
        f"ε spent {acc.spent_epsilon:.3g} of {epsilon:g}, δ {acc.spent_delta:.2g} of {delta:g}"
    err.print(f"[green]learned {len(model.tables)} tables ({rows:,} rows)[/green], {dp} → {output}")
    if model.unit is not None:
        private = [k for k in model.plan.order if k not in model.public]
        why = f" (proposed: {model.unit_proposed}; name another with --unit)" if model.unit_proposed else ""
        err.print(f"privacy unit: a row of {model.unit}{why}", highlight=False)
        err.print(f"private (each person's rows bounded): {', '.join(private)}", highlight=False)
        err.print(f"[yellow]not protected (reference data, learned exactly):[/yellow] "
                  f"{', '.join(model.public) or 'none'}", highlight=False)
    swamped = [(e.table, e.scale, model.tables[e.table].rows) for e in (acc.entries if acc else [])
               if e.component == "row count" and e.scale > 0.25 * max(model.tables[e.table].rows, 1)]
    if swamped:
        err.print("[yellow]noise swamps the row counts of[/yellow] " + ", ".join(
            f"{t} (σ ≈ {s:,.0f} rows, ~{n:,} learned)" for t, s, n in swamped)
            + ": their shape is mostly lost. Raise --epsilon or lower --cap (the rows one person may add)",
            highlight=False)


def ledger(out: Console, model: Model, *, as_json: bool) -> None:
    """The privacy ledger: every release, its mechanism and its budget."""
    acc = model.privacy
    if acc is None or acc.epsilon == float("inf"):
        out.print("no differential privacy: this model was fitted with ε = ∞ (exact statistics)")
        return
    if as_json:
        out.print_json(json.dumps({**acc.to_json(), "unit": model.unit, "public": list(model.public),
                                   "cap": model.cap}))
        return
    tbl = RichTable(title=f"privacy ledger: (ε={acc.epsilon:g}, δ={acc.delta:g})-DP per privacy unit")
    for col in ("table", "release", "mechanism", "ρ", "δ", "sensitivity", "noise scale"):
        tbl.add_column(col)
    for e in acc.entries:
        # a DP-SGD release: its sampling, its steps and its own ε beside the ρ it took at the conversion order
        how = e.mechanism if not e.rdp else (f"{e.mechanism}: a person sampled at {e.sample_rate:.3g}, {e.steps} "
                                            f"steps, ε {e.epsilon:.3g} alone")
        tbl.add_row(e.table, e.component, how, f"{e.rho:.3g}", f"{e.delta:.2g}" if e.delta else "",
                    f"{e.sensitivity:g}", f"{e.scale:.3g}")
    out.print(tbl)
    out.print(f"spent: ρ = {acc.spent_rho:.4g} of {acc.total_rho:.4g} → ε = {acc.spent_epsilon:.4g} "
              f"of {acc.epsilon:g}; δ = {acc.spent_delta:.3g} of {acc.delta:g} ({acc.conversion_delta:g} for "
              f"ε, the rest by {acc.thresholds} thresholded releases); privacy unit: a row of {model.unit}; "
              f"not protected (reference data): {', '.join(model.public) or 'none'}; children per parent "
              f"capped at {model.cap}")


def report(out: Console, rep: FidelityReport, priv: list[TablePrivacy] | None, *, as_json: bool,
           gate: dict[str, Any] | None = None) -> None:
    """The fidelity scores per table and overall, the privacy scores when a model was given, and the
    gate's figures (JSON) and failures."""
    if as_json:
        doc = rep.to_json()
        if priv is not None:
            doc["privacy"] = [asdict(p) for p in priv]
        if gate is not None:
            doc["gate"] = gate
        out.print_json(json.dumps(doc))
        return
    tbl = RichTable(title="fidelity (1.0 = indistinguishable)")
    for col in ("table", "column shapes", "pair trends"):
        tbl.add_column(col)
    for t, scores in rep.table_scores().items():
        tbl.add_row(t, _score(scores["column_shapes"]), _score(scores["pair_trends"]))
    out.print(tbl)
    for k, v in rep.overall().items():
        out.print(f"{k}: {_score(v)}")
    unscored: dict[str, list[str]] = {}
    for table, cols in rep.unscored.items():
        for col, why in cols.items():
            unscored.setdefault(why, []).append(f"{table}.{col}")
    for why, names in sorted(unscored.items()):
        out.print(f"not scored ({why}): {', '.join(names)}", highlight=False)
    if rep.utility:
        utbl = RichTable(title="machine-learning utility: train on synthetic / on real, test on real")
        for col in ("table", "target", "metric", "TSTR", "TRTR"):
            utbl.add_column(col)
        for u in rep.utility:
            utbl.add_row(u.table, u.target, u.metric, f"{u.tstr:.3f}", f"{u.trtr:.3f}")
        out.print(utbl)
    if rep.path_agreement:
        atbl = RichTable(title="FK paths that meet: rows reaching the same ancestor row")
        for col in ("paths", "real", "synthetic"):
            atbl.add_column(col)
        for paths, (r, s) in rep.path_agreement.items():
            atbl.add_row(paths, f"{r:.3f}", f"{s:.3f}")
        out.print(atbl)
    if priv:
        ptbl = RichTable(title="privacy (per private table)")
        for col in ("table", "exact matches", "DCR synthetic", "DCR holdout", "ratio", "MIA AUC"):
            ptbl.add_column(col)
        for p in priv:
            ptbl.add_row(p.table, f"{p.exact_match_rate:.3f}", f"{p.dcr_synthetic:.4f}", f"{p.dcr_holdout:.4f}",
                         f"{p.dcr_ratio:.2f}", f"{p.mia_auc:.3f}")
        out.print(ptbl)


def _score(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def demo(out: Console, ins: Inspection, path: Path) -> None:
    """The demo's seeded tables and how to look inside."""
    tbl = RichTable(title=f"{path}: the bundled shop schema, seeded")
    tbl.add_column("table")
    tbl.add_column("rows", justify="right")
    for key in ins.plan.order:
        tbl.add_row(key, f"{ins.row_counts[key]:,}")
    out.print(tbl)
    out.print(f"Look inside: sqlite3 {path} 'SELECT * FROM customer LIMIT 5'")


def learned_demo(out: Console, model: Model, rep: FidelityReport, real: Inspection, synth: Inspection,
                 path: Path) -> None:
    """The learned demo: rows per table, the fidelity figures, the privacy spent, how to look inside."""
    tbl = RichTable(title=f"{path}: a private look-alike of the bundled Chinook database")
    for col in ("table", "source rows", "generated", "protection"):
        tbl.add_column(col, justify="right" if col != "table" else "left")
    for key in synth.plan.order:
        kind = "reference data" if key in model.public else "private (DP)"
        tbl.add_row(key, f"{real.row_counts.get(key, 0):,}", f"{synth.row_counts[key]:,}", kind)
    out.print(tbl)
    overall = rep.overall()
    out.print("fidelity (SDMetrics' quality properties, 1.0 = indistinguishable): " + ", ".join(
        f"{k.replace('_', ' ')} {_score(v)}" for k, v in overall.items()), highlight=False)
    acc = model.privacy
    if acc is not None:
        out.print(f"privacy: (ε = {acc.spent_epsilon:.3g}, δ = {acc.spent_delta:.2g}) spent of ({acc.epsilon:g}, "
                  f"{acc.delta:g}) per {model.unit} and every row it owns, in {len(acc.entries)} releases "
                  f"(dbsynth privacy MODEL lists them); {len(model.public)} reference tables learned exactly",
                  highlight=False)
    out.print(f"Look inside: sqlite3 {path} 'SELECT FirstName, LastName, Email, Country FROM Customer LIMIT 5'",
              highlight=False)
    out.print(f"             sqlite3 {path} 'SELECT InvoiceDate, BillingCountry, Total FROM Invoice LIMIT 5'",
              highlight=False)

