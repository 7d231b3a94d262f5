#!/usr/bin/env python3
"""The Python package beside implicit 0.7.3 and the gramrec CLI, in one run,
on the peer harness's synthetic set (a users x items CSR of counts, and the
same interactions as a CSV). Prints one line per figure and a JSON summary.

- fit: seconds per iteration (the fit callback's, both sides), 2 threads,
  confidence 1 + alpha*r on both sides (implicit gets 1 + r as its values,
  as benches/peers.sh does), lambda 0.05 unscaled, CG with 3 steps, on the
  CPU; at each --factors.
- overhead: gramrec.ALS.fit's wall time beside `gramrec train` on the same
  data (the CLI's wall time less its file reading and model writing, from
  its --json), same settings.
- recommend: top 10 for every user in batches of 10,000 users, the users'
  training items left out, both libraries.
- memory: peak RSS of a fit from a pandas frame with string IDs (and the
  frame's own size, as pandas counts it), of gramrec.read + fit, and of the
  CLI's train on the same CSV (each in a process of its own, /usr/bin/time -v).

Usage: python benches/python.py --npz s.npz --csv s.csv --gramrec target/release/gramrec
(benches/python.sh makes the data and the builds.)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits


def median(values):
    return float(np.median(values))


def fit_gramrec(csr, factors, iterations):
    import gramrec

    seconds = []
    model = gramrec.ALS(factors=factors, regularization=0.05, alpha=1.0, iterations=iterations, num_threads=2,
                        device="cpu", kind="implicit", confidence="linear", random_state=42)
    started = time.perf_counter()
    model.fit(csr, show_progress=False, callback=lambda it, s, loss: seconds.append(s))
    return model, time.perf_counter() - started, seconds


def fit_implicit(csr, factors, iterations):
    from implicit.cpu.als import AlternatingLeastSquares

    plus_one = csr.copy()
    plus_one.data = (1.0 + plus_one.data).astype(np.float32)
    seconds = []
    model = AlternatingLeastSquares(factors=factors, regularization=0.05, alpha=1.0, iterations=iterations,
                                    num_threads=2, random_state=42, calculate_training_loss=False)
    model.fit(plus_one, show_progress=False, callback=lambda it, s, loss: seconds.append(s))
    return model, seconds


def recommend_all(model, csr, batch=10_000):
    started = time.perf_counter()
    for start in range(0, csr.shape[0], batch):
        users = np.arange(start, min(start + batch, csr.shape[0]))
        model.recommend(users, csr[users], N=10)
    return time.perf_counter() - started


def cli_train(gramrec_bin, csv, factors, iterations, out):
    started = time.perf_counter()
    done = subprocess.run([gramrec_bin, "train", "-q", "--json", "--input", csv, "--implicit", "--factors",
                           str(factors), "--iterations", str(iterations), "--reg", "0.05", "--alpha", "1",
                           "--confidence", "linear", "--threads", "2", "--device", "cpu", "--out", out],
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    report = json.loads(done.stdout)
    return wall, report


def peak_rss_mb(command):
    """The command's peak resident memory in MiB, and what it printed."""
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=True)
    for line in done.stderr.splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1]) / 1024, done.stdout
    raise RuntimeError(done.stderr)


FRAME_FIT = """
import sys, pandas as pd, gramrec
df = pd.read_csv(sys.argv[1], dtype={"user": str, "item": str})
print(df.memory_usage(deep=True).sum() / 2**20)
gramrec.ALS(factors=int(sys.argv[2]), iterations=1, num_threads=2, device="cpu", kind="implicit").fit_frame(
    df, "user", "item", "rating", show_progress=False)
"""

READ_FIT = """
import sys, gramrec
data = gramrec.read(sys.argv[1])
gramrec.ALS(factors=int(sys.argv[2]), iterations=1, num_threads=2, device="cpu", kind="implicit").fit(
    data, show_progress=False)
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--npz", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--gramrec", required=True, help="the CLI binary (a release build)")
    ap.add_argument("--factors", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--iterations", type=int, default=3)
    a = ap.parse_args()
    csr = sp.load_npz(a.npz).tocsr().astype(np.float32)
    csr.sort_indices()
    summary = {"users": csr.shape[0], "items": csr.shape[1], "interactions": int(csr.nnz), "figures": []}
    work = tempfile.mkdtemp()
    with threadpool_limits(limits=1, user_api="blas"):
        for factors in a.factors:
            model, py_wall, ours = fit_gramrec(csr, factors, a.iterations)
            peer, theirs = fit_implicit(csr, factors, a.iterations)
            cli_wall, report = cli_train(a.gramrec, a.csv, factors, a.iterations, os.path.join(work, f"m{factors}"))
            cli_work = report["trainSeconds"]
            fig = {
                "factors": factors,
                "fit_s_per_iter": {"gramrec": median(ours), "implicit": median(theirs)},
                "python_fit_wall_s": py_wall, "python_training_s": sum(ours),
                "cli_wall_s": cli_wall, "cli_load_s": report["loadSeconds"], "cli_training_s": cli_work,
            }
            print(f"{factors} factors: fit {median(ours):.3f} s/iteration, implicit {median(theirs):.3f}, "
                  f"ratio {median(ours) / median(theirs):.2f}", flush=True)
            print(f"{factors} factors: Python fit {py_wall:.2f} s wall ({sum(ours):.2f} s of iterations); "
                  f"CLI {cli_wall:.2f} s wall, of which reading the CSV {report['loadSeconds']:.2f} s and "
                  f"training {cli_work:.2f} s", flush=True)
            if factors == a.factors[0]:
                ours_all, theirs_all = recommend_all(model, csr), recommend_all(peer, csr)
                fig["recommend_all_s"] = {"gramrec": ours_all, "implicit": theirs_all}
                print(f"recommend top 10 for all {csr.shape[0]} users: gramrec {ours_all:.2f} s, implicit "
                      f"{theirs_all:.2f} s, ratio {ours_all / theirs_all:.2f}", flush=True)
            summary["figures"].append(fig)
            del model, peer
    f = str(a.factors[0])
    frame_mb, printed = peak_rss_mb([sys.executable, "-c", FRAME_FIT, a.csv, f])
    read_mb, _ = peak_rss_mb([sys.executable, "-c", READ_FIT, a.csv, f])
    cli_mb, _ = peak_rss_mb([a.gramrec, "train", "-q", "--input", a.csv, "--implicit", "--factors", f,
                             "--iterations", "1", "--threads", "2", "--device", "cpu", "--out",
                             os.path.join(work, "mem")])
    pandas_mb = float(printed.split()[0])
    summary["peak_rss_mib"] = {"python_frame_fit": frame_mb, "pandas_frame_itself": pandas_mb,
                               "python_read_fit": read_mb, "cli_train": cli_mb}
    print(f"peak memory (MiB), 1 iteration at {f} factors: Python fit_frame from pandas with string IDs "
          f"{frame_mb:.0f} (the frame itself {pandas_mb:.0f}), Python read + fit {read_mb:.0f}, "
          f"CLI train {cli_mb:.0f}", flush=True)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
