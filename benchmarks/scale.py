"""Production-size runs: Pagila fitted at the default privacy, then

- generation without writing (``dbsynth.synthesize``, one worker) at ``--scale 10``: rows/s, the
  best of three runs of the same rows (and each run's);
- ``dbsynth generate pagila.dbsynth --scale 100`` (≈ 5M rows) into an empty PostgreSQL copy of its
  schema with ``--workers 1`` and ``--workers 2``: rows/s, and the peak resident memory of the run
  (every process of it summed: the CLI and its Dask workers, sampled every 50 ms) and of its largest
  process; every constraint validated by the target at the end of each run. The summed RSS counts
  the pages the processes share (Python, numpy's and pandas' libraries) once per process; the summed
  proportional set size (PSS) counts them once, and is what the run takes from the machine.

    python benchmarks/scale.py [--url postgresql://postgres@127.0.0.1:5432/postgres] [--scale 100]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from _datasets import scratch

import dbsynth


def peak_rss(proc: subprocess.Popen[bytes], every: float = 0.05) -> tuple[list[int], threading.Thread]:
    """Samples the summed and the largest RSS of ``proc``'s process tree, and its summed PSS, until it
    ends."""
    peaks = [0, 0, 0]

    def watch() -> None:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                info = [p.memory_full_info() for p in tree]
            except psutil.Error:
                continue
            rss = [i.rss for i in info]
            peaks[0], peaks[1] = max(peaks[0], sum(rss)), max(peaks[1], max(rss))
            peaks[2] = max(peaks[2], sum(i.pss for i in info))
            time.sleep(every)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return peaks, thread


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--scale", type=float, default=100)
    args = ap.parse_args()
    cli = str(Path(sys.executable).with_name("dbsynth"))
    with scratch(args.url) as dbs, tempfile.TemporaryDirectory() as tmp:
        model = dbsynth.fit(dbs.source("pagila"))  # the default: ε = 1
        path = dbsynth.save(model, str(Path(tmp) / "pagila.dbsynth"))
        times = []
        for _ in range(3):  # the same rows each time: the fastest is the code, the rest this machine's noise
            start = time.perf_counter()
            frames = dbsynth.synthesize(model, scale=10, seed=1).frames
            times.append(time.perf_counter() - start)
            rows = sum(len(f) for f in frames.values())
            del frames
        gen = min(times)
        print(f"generation only, --scale 10, one worker: {rows:,} rows in {gen:.2f} s = {rows / gen:,.0f} rows/s "
              f"(best of 3; {', '.join(f'{rows / t:,.0f}' for t in times)})")
        for workers in (1, 2):
            target = dbs.empty("pagila")
            start = time.perf_counter()
            proc = subprocess.Popen([cli, "generate", path, "--target", target, "--scale", f"{args.scale:g}",
                                     "--workers", str(workers), "--json"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            peaks, watcher = peak_rss(proc)
            out, err = proc.communicate()
            watcher.join()
            wall = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(err.decode())
            run = json.loads(out)
            total = run["total_rows"]
            print(f"--scale {args.scale:g} --workers {workers}: {total:,} rows in {wall:.1f} s = {total / wall:,.0f} "
                  f"rows/s end to end (generating {run['generate_seconds']:.1f} s, writing "
                  f"{run['write_seconds']:.1f} s); "
                  f"peak RSS {peaks[0] / 2**20:,.0f} MB all processes, {peaks[1] / 2**20:,.0f} MB the largest; "
                  f"peak PSS {peaks[2] / 2**20:,.0f} MB all processes")


if __name__ == "__main__":
    main()
