"""The neural generator on the real sample databases: every row it writes passes the target's
constraints, at ε = ∞ and under DP; a model file holds its weights as arrays and gives back the same
rows; the CLI picks it per table and refuses a device that is not there in one line."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

import dbsynth
from tests.conftest import DATASETS, chinook_ddl, model_strings, read_frames
from tests.integration.test_cli_errors import assert_one_line_error
from tests.integration.test_cli_errors import dbsynth as run

pytest.importorskip("torch")
pytest.importorskip("opacus")


@pytest.mark.parametrize(("dataset", "epsilon"), [("chinook", math.inf), ("pagila", 5.0)])
def test_neural_rows_pass_every_constraint(source_databases: dict[str, str], pg_database: Callable[..., str],
                                           tmp_path: Path, dataset: str, epsilon: float) -> None:
    model = dbsynth.fit(source_databases[dataset], epsilon=epsilon, engine="neural")
    kinds = {tm.generator.kind for tm in model.tables.values()}
    assert kinds == {"neural"}, kinds
    if not math.isinf(epsilon):
        assert model.privacy is not None and model.privacy.spent_epsilon <= epsilon * (1 + 1e-9)
        assert any(e.rdp for e in model.privacy.entries)
    ddl = chinook_ddl(tmp_path) if dataset == "chinook" else DATASETS / "pagila" / "pagila-schema.sql"
    target = pg_database(ddl)
    result = dbsynth.write_model(model, target, seed=2)  # keys, FKs and CHECKs validated by the target
    written = {k: len(v) for k, v in read_frames(target).items()}
    assert all(written[k] == n for k, n in result.rows.items()) and sum(written.values()) > 1000


def test_a_neural_model_file_gives_back_the_same_rows(source_databases: dict[str, str], tmp_path: Path) -> None:
    model = dbsynth.fit(source_databases["chinook"], epsilon=math.inf, generators={"invoice_line": "neural"})
    assert model.tables["invoice_line"].generator.kind == "neural"
    assert model.tables["invoice"].generator.kind == "bayesnet"
    path = dbsynth.save(model, str(tmp_path / "chinook.dbsynth"))
    assert not any("pickle" in s or "torch" in s for s in model_strings(Path(path)))
    loaded = dbsynth.load(path)
    a, b = dbsynth.sample(model, seed=4), dbsynth.sample(loaded, seed=4)
    assert all(a[k].equals(b[k]) for k in a)


def test_the_cli_picks_the_generator_per_table_and_refuses_a_missing_device(source_databases: dict[str, str],
                                                                            tmp_path: Path) -> None:
    out = tmp_path / "m.dbsynth"
    res = run("fit", source_databases["chinook"], "-o", str(out), "--epsilon", "inf", "--generator", "genre=neural")
    assert res.returncode == 0, res.stderr
    assert dbsynth.load(str(out)).tables["genre"].generator.kind == "neural"
    import torch

    if not torch.cuda.is_available():
        res = run("fit", source_databases["chinook"], "-o", str(tmp_path / "x.dbsynth"), "--generator", "neural",
                  "--device", "cuda")
        assert_one_line_error(res, "--device cuda", "no CUDA device", code=2)
    res = run("fit", source_databases["chinook"], "-o", str(tmp_path / "y.dbsynth"), "--generator", "track=gan")
    assert_one_line_error(res, "--generator track=gan", "neural", code=2)
