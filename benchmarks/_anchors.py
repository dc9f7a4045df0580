"""The outsiders' tools in their own virtual environment: smartnoise-synth (MST, AIM) and SDMetrics
pin old libraries (mbi < 2, opacus 0.14), so they never enter dbsynth's. Made on first use, the CPU
build of torch first (``benchmarks/.anchors-venv``, git-ignored)."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from _sdmetrics import CANON

__all__ = ["CANON", "anchors_python"]

VENV = Path(__file__).resolve().parent / ".anchors-venv"
ANCHORS = ["torch==2.13.0", "smartnoise-synth==1.0.8", "sdmetrics==0.32.0"]  # torch first: its CPU build


def anchors_python() -> Path:
    """The anchors' interpreter, made on first use."""
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"making {VENV} for smartnoise-synth and SDMetrics (a few minutes, once)", file=sys.stderr)
        venv.create(VENV, with_pip=True)
        for package in ANCHORS:
            subprocess.run([str(python), "-m", "pip", "install", "-q", package], check=True)
    return python
