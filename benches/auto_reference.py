"""References for `train --auto` on MovieLens 100K or another implicit set
(BENCHMARKS.md "train --auto against tuned grids"): for each split seed, gramrec's defaults, `--auto`, an
exhaustive grid of gramrec settings and an exhaustive grid of benfred/implicit
settings, each grid's cell chosen on the same validation split (10% of each
user's training interactions, `gramrec split --seed S`), retrained on the whole
training part and scored once on the test part. Every model — implicit's
through `gramrec import --from implicit` — is scored by `gramrec evaluate`, so
the figures share one definition.

Usage (the interop venv has implicit, numpy and scipy):
    target/interop-venv/bin/python benches/auto_reference.py \\
        --gramrec target/release/gramrec --data ../shared/data/ml-100k/u.data --work WORK [--seeds 1 2 3 4 5]
--data may also be a CSV with a header (user,item[,value]), as benches/lists.py
writes; --gramrec-grid replaces gramrec's grid (JSON: factors, reg, alpha lists);
--no-implicit leaves implicit's grid out.
"""
import argparse
import csv
import itertools
import json
import os
import statistics
import subprocess
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit's advice: its own threads, not BLAS's

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402

GRAMREC_GRID = {"factors": [32, 64, 128], "reg": [10, 30, 100, 300], "alpha": [1, 3]}
IMPLICIT_GRID = {"factors": [32, 64, 128], "regularization": [0.01, 0.1, 1, 10, 100], "alpha": [1, 10, 40]}
ITERATIONS = 15


def run(*args):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def ndcg(g, model, train, test):
    return json.loads(run(g, "evaluate", "--json", "-m", model, "--train", train, "--test", test))["ndcg"]


def gramrec_cell(g, train, out, cell, seed):
    run(g, "train", "-q", "--device", "cpu", "--implicit", "-i", train, "-o", out, "--seed", seed,
        "--iterations", ITERATIONS, "--factors", cell["factors"], "--reg", cell["reg"], "--alpha", cell["alpha"])


def read_rows(path):
    """(user, item, value) of a tab-separated u.data or a CSV with a header."""
    if path.endswith(".csv"):
        with open(path) as f:
            rows = list(csv.reader(f))[1:]
        return [(r[0], r[1], float(r[2]) if len(r) > 2 else 1.0) for r in rows]
    rows = [line.split("\t")[:3] for line in open(path).read().splitlines() if line]
    return [(u, i, float(r)) for u, i, r in rows]


def implicit_cell(g, train, out, cell, seed):
    """Fits implicit on `train` and imports it as a gramrec model at `out`."""
    rows = read_rows(train)
    users = sorted({u for u, _, _ in rows})
    items = sorted({i for _, i, _ in rows})
    u_at = {u: n for n, u in enumerate(users)}
    i_at = {i: n for n, i in enumerate(items)}
    matrix = sp.csr_matrix(([r for _, _, r in rows], ([u_at[u] for u, _, _ in rows], [i_at[i] for _, i, _ in rows])),
                           shape=(len(users), len(items)), dtype=np.float32)
    model = AlternatingLeastSquares(factors=cell["factors"], regularization=cell["regularization"],
                                    alpha=cell["alpha"], iterations=ITERATIONS, random_state=seed, num_threads=2)
    model.fit(matrix, show_progress=False)
    npz = out + ".npz"
    model.save(npz)
    with open(out + ".users.txt", "w") as f:
        f.write("\n".join(users) + "\n")
    with open(out + ".items.txt", "w") as f:
        f.write("\n".join(items) + "\n")
    run(g, "import", "--from", "implicit", npz, "--user-ids", out + ".users.txt", "--item-ids", out + ".items.txt",
        "--train", train, "--out", out)


def grid(cells):
    keys = list(cells)
    return [dict(zip(keys, values)) for values in itertools.product(*cells.values())]


def tuned(g, fit, cells, val_train, val_test, train, test, work, seed):
    """The grid's cell chosen on validation, retrained on `train`: (cell, validation, test)."""
    scored = []
    for n, cell in enumerate(grid(cells)):
        out = os.path.join(work, f"cell{n}")
        fit(g, val_train, out, cell, seed)
        scored.append((ndcg(g, out, val_train, val_test), n, cell))
    best_val, _, best = max(scored, key=lambda s: (s[0], -s[1]))
    out = os.path.join(work, "chosen")
    fit(g, train, out, best, seed)
    return best, best_val, ndcg(g, out, train, test)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gramrec", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--gramrec-grid", type=json.loads, default=GRAMREC_GRID)
    ap.add_argument("--no-implicit", action="store_true", help="leave implicit's grid out")
    a = ap.parse_args()
    ext = ".csv" if a.data.endswith(".csv") else ".data"
    g = os.path.abspath(a.gramrec)
    table = {k: [] for k in ("defaults", "auto", "gramrec grid") + (() if a.no_implicit else ("implicit grid",))}
    for seed in a.seeds:
        d = os.path.join(a.work, f"s{seed}")
        os.makedirs(d, exist_ok=True)
        run(g, "split", "--input", a.data, "--out", d, "--mode", "per-user", "--seed", seed)
        train, test = os.path.join(d, "train" + ext), os.path.join(d, "test" + ext)
        v = os.path.join(d, "val")
        run(g, "split", "--input", train, "--out", v, "--mode", "per-user", "--seed", seed, "--test-fraction", "0.1")
        val_train, val_test = os.path.join(v, "train" + ext), os.path.join(v, "test" + ext)
        run(g, "train", "-q", "--device", "cpu", "--implicit", "-i", train, "-o", os.path.join(d, "defaults"))
        table["defaults"].append(ndcg(g, os.path.join(d, "defaults"), train, test))
        start = time.time()
        run(g, "train", "-q", "--device", "cpu", "--implicit", "-i", train, "-o", os.path.join(d, "auto"), "--auto")
        auto_s = time.time() - start
        table["auto"].append(ndcg(g, os.path.join(d, "auto"), train, test))
        grids = [("gramrec grid", gramrec_cell, a.gramrec_grid), ("implicit grid", implicit_cell, IMPLICIT_GRID)]
        for name, fit, cells in grids[:1] if a.no_implicit else grids:
            work = os.path.join(d, name.split()[0])
            os.makedirs(work, exist_ok=True)
            start = time.time()
            cell, val, score = tuned(g, fit, cells, val_train, val_test, train, test, work, seed)
            table[name].append(score)
            print(f"seed {seed}: {name}: chose {cell} (validation {val:.4f}), test {score:.4f}, "
                  f"{len(grid(cells))} cells in {time.time() - start:.0f} s", flush=True)
        print(f"seed {seed}: defaults {table['defaults'][-1]:.4f}, --auto {table['auto'][-1]:.4f} ({auto_s:.1f} s)",
              flush=True)
    print("| model | NDCG@10 on test, mean ± sd |")
    print("| --- | --- |")
    for name, values in table.items():
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"| {name} ({len(values)} seeds) | {statistics.mean(values):.4f} ± {sd:.4f} |")


if __name__ == "__main__":
    main()
