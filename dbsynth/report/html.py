"""The report as one self-contained HTML file: an overview (the four fidelity properties, the
machine-learning utility, the privacy figures and, with a model, where ε went), then one section
per table: each scored column real against synthetic, the pair-trend scores as a heatmap, each FK's
children-per-parent histograms. Plots are drawn by matplotlib (the ``report`` extra) and embedded
as PNG data URIs: the file needs no JavaScript, no network and no other file.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dbsynth.errors import UsageError
from dbsynth.numbers import as_numbers
from dbsynth.relational import children_per_parent, fk_id
from dbsynth.report.fidelity import CONTINUOUS, FidelityReport, relationships, sdtypes
from dbsynth.report.privacy import TablePrivacy
from dbsynth.schema.model import Schema

__all__ = ["write_html"]

REAL, SYNTH = "#4c72b0", "#dd8452"
STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:.5rem}.grid img{width:280px}.wide{max-width:100%}
.big{font-size:2rem;font-weight:600}.cards{display:flex;gap:1rem;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:9rem}.muted{color:#777}"""


def _plt() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("the HTML report draws with matplotlib: pip install 'dbsynth[report]'") from None
    return plt


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    fig.clf()
    _plt().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _column_plot(name: str, kind: str, real: pd.Series, synth: pd.Series, score: float | None) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(3.6, 2.4))
    if kind in CONTINUOUS:
        r, s = as_numbers(real), as_numbers(synth)
        r, s = r[~np.isnan(r)], s[~np.isnan(s)]
        both = np.concatenate([r, s])
        if len(both):
            edges = np.histogram_bin_edges(both, bins=20)
            ax.hist(r, bins=edges, alpha=0.6, color=REAL, density=True, label="real")
            ax.hist(s, bins=edges, alpha=0.6, color=SYNTH, density=True, label="synthetic")
        if kind == "datetime":
            ax.set_xticks([])
    else:
        rv = real.dropna().astype(str).value_counts(normalize=True)
        sv = synth.dropna().astype(str).value_counts(normalize=True)
        top = rv.index[:12].union(sv.index[:4], sort=False)[:15]
        x = np.arange(len(top))
        ax.bar(x - 0.2, rv.reindex(top, fill_value=0), width=0.4, color=REAL, label="real")
        ax.bar(x + 0.2, sv.reindex(top, fill_value=0), width=0.4, color=SYNTH, label="synthetic")
        ax.set_xticks(x, [t[:12] for t in top], rotation=60, fontsize=6)
    ax.set_title(f"{name}  ({'—' if score is None or np.isnan(score) else f'{score:.2f}'})", fontsize=9)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    return _png(fig)


def _heatmap(columns: list[str], pairs: Mapping[str, float]) -> str | None:
    scored = {k: v for k, v in pairs.items() if not np.isnan(v)}
    if not scored or len(columns) < 2:
        return None
    plt = _plt()
    grid = np.full((len(columns), len(columns)), np.nan)
    at = {c: i for i, c in enumerate(columns)}
    for key, v in scored.items():
        a, b = key.split(" ~ ")
        grid[at[a], at[b]] = grid[at[b], at[a]] = v
    fig, ax = plt.subplots(figsize=(1.2 + 0.35 * len(columns), 1 + 0.35 * len(columns)))
    image = ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn")
    ax.set_xticks(range(len(columns)), columns, rotation=90, fontsize=6)
    ax.set_yticks(range(len(columns)), columns, fontsize=6)
    fig.colorbar(image, ax=ax, shrink=0.7)
    ax.set_title("pair trends (pairs with a real trend)", fontsize=8)
    return _png(fig)


def _children_plot(name: str, real: np.ndarray, synth: np.ndarray) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(3.6, 2.4))
    top = int(max(real.max(initial=0), synth.max(initial=0)))
    edges = np.arange(0, top + 2) - 0.5 if top <= 40 else np.histogram_bin_edges(np.concatenate([real, synth]), 30)
    ax.hist(real, bins=edges, alpha=0.6, color=REAL, density=True, label="real")
    ax.hist(synth, bins=edges, alpha=0.6, color=SYNTH, density=True, label="synthetic")
    ax.set_title(f"children per parent: {name}", fontsize=8)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    return _png(fig)


def _ledger_plot(model: Any) -> str | None:
    acc = model.privacy
    if acc is None or not acc.entries:
        return None
    plt = _plt()
    spent: dict[str, float] = {}
    for e in acc.entries:
        spent[e.table] = spent.get(e.table, 0.0) + e.rho
    fig, ax = plt.subplots(figsize=(5, 0.4 + 0.3 * len(spent)))
    names = sorted(spent, key=spent.get)  # type: ignore[arg-type]
    ax.barh(names, [spent[n] / acc.total_rho for n in names], color=SYNTH)
    ax.set_xlabel("share of the budget (zCDP ρ)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(f"where ε = {acc.epsilon:g} went", fontsize=9)
    return _png(fig)


def _img(src: str | None, cls: str = "") -> str:
    return "" if src is None else f'<img src="{src}" class="{cls}" alt="">'


def _fmt(v: float | None) -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def write_html(path: Path, schema: Schema, real: Mapping[str, pd.DataFrame], synth: Mapping[str, pd.DataFrame],
               rep: FidelityReport, privacy: Sequence[TablePrivacy] | None = None, model: Any = None) -> Path:
    """The report of ``rep`` (computed on ``real`` and ``synth``) as one HTML file at ``path``."""
    kinds, _ = sdtypes(schema, {k: v for k, v in real.items() if k in synth})
    overall = rep.overall()
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>dbsynth report</title><style>{STYLE}"
             "</style></head><body><h1>dbsynth report</h1><section id='overview'><h2>Overview</h2><div class='cards'>"]
    for key, label in (("score", "quality"), ("column_shapes", "column shapes"), ("pair_trends", "pair trends"),
                       ("cardinality", "cardinality"), ("inter_table_trends", "inter-table trends")):
        parts.append(f"<div class='card'><div class='muted'>{label}</div>"
                     f"<div class='big'>{_fmt(overall[key])}</div></div>")
    parts.append("</div><p class='muted'>SDMetrics 0.32's quality properties, computed with its rules (1.0: "
                 "indistinguishable).</p>")
    if rep.utility:
        parts.append("<table><tr><th>machine-learning utility</th><th>target</th><th>metric</th><th>TSTR</th>"
                     "<th>TRTR</th></tr>" + "".join(
                         f"<tr><td>{e(u.table)}</td><td>{e(u.target)}</td><td>{e(u.metric)}</td><td>{_fmt(u.tstr)}"
                         f"</td><td>{_fmt(u.trtr)}</td></tr>" for u in rep.utility) + "</table>")
    if privacy:
        parts.append("<table><tr><th>privacy</th><th>exact matches</th><th>DCR ratio</th><th>MIA AUC</th></tr>"
                     + "".join(f"<tr><td>{e(p.table)}</td><td>{_fmt(p.exact_match_rate)}</td><td>{_fmt(p.dcr_ratio)}"
                               f"</td><td>{_fmt(p.mia_auc)}</td></tr>" for p in privacy) + "</table>")
    if rep.path_agreement:
        parts.append("<table><tr><th>FK paths that meet</th><th>real</th><th>synthetic</th></tr>" + "".join(
            f"<tr><td>{e(k)}</td><td>{_fmt(r)}</td><td>{_fmt(s)}</td></tr>" for k, (r, s) in rep.path_agreement.items())
            + "</table>")
    if model is not None:
        parts.append(_img(_ledger_plot(model)))
    parts.append("</section>")
    children: dict[str, list[tuple[str, str]]] = {}
    for child, fk in relationships(schema):
        if child.key in real and fk.referred in real and child.key in synth and fk.referred in synth:
            name = fk_id(child.key, fk)
            children.setdefault(fk.referred, []).append((name, _children_plot(
                name, children_per_parent(real[fk.referred], real[child.key], fk),
                children_per_parent(synth[fk.referred], synth[child.key], fk))))
    for t in schema.tables:
        if t.key not in kinds:
            continue
        scores = rep.table_scores().get(t.key, {})
        parts.append(f"<section class='table' id='table-{e(t.key)}'><h2>{e(t.key)}</h2><p>{len(real[t.key]):,} real "
                     f"rows, {len(synth[t.key]):,} synthetic; column shapes {_fmt(scores.get('column_shapes'))}, "
                     f"pair trends {_fmt(scores.get('pair_trends'))}</p><div class='grid'>")
        for col, kind in kinds[t.key].items():
            parts.append(_img(_column_plot(col, kind, real[t.key][col], synth[t.key][col],
                                           rep.column_shapes.get(t.key, {}).get(col))))
        for _, src in children.get(t.key, []):
            parts.append(_img(src))
        parts.append("</div>" + _img(_heatmap(list(kinds[t.key]), rep.pair_trends.get(t.key, {}))))
        unscored = rep.unscored.get(t.key, {})
        if unscored:
            parts.append("<p class='muted'>not scored: " + ", ".join(
                f"{e(c)} ({e(w)})" for c, w in unscored.items()) + "</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    path.write_text("".join(parts), encoding="utf-8")
    return path
