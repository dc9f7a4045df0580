"""The outsiders' tools in their own virtual environment: smartnoise-synth (MST, AIM) and SDMetrics
pin old libraries (mbi < 2, opacus 0.14), so they never enter dbsynth's. Made on first use, the CPU
build of torch first (``benchmarks/.anchors-venv``, git-ignored)."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".anchors-venv"
ANCHORS = ["torch==2.13.0", "smartnoise-synth==1.0.8", "sdmetrics==0.32.0"]  # torch first: its CPU build

# pasted into the scripts run there: category values as one text whatever the writer's dtype
# (2006, 2006.0 and "2006" alike)
CANON = '''
def canon(values):
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().sum() == values.notna().sum():
        return numbers.map(lambda v: "" if pd.isna(v) else repr(round(float(v), 6)))
    return values.astype(str).where(values.notna(), "")
'''


def anchors_python() -> Path:
    """The anchors' interpreter, made on first use."""
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"making {VENV} for smartnoise-synth and SDMetrics (a few minutes, once)", file=sys.stderr)
        venv.create(VENV, with_pip=True)
        for package in ANCHORS:
            subprocess.run([str(python), "-m", "pip", "install", "-q", package], check=True)
    return python
