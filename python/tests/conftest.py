"""Shared fixtures: the gramrec binary the round-trip tests compare with,
and small interaction sets with planted structure (the tests make their own
data; nothing is downloaded)."""

import os
import pathlib
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def gramrec_bin():
    """The CLI (GRAMREC_BIN, else the build tests/run-all.sh made)."""
    path = pathlib.Path(os.environ.get("GRAMREC_BIN", ROOT / "target" / "debug" / "gramrec"))
    if not path.exists():
        pytest.fail(f"the gramrec binary is missing at {path}: build it (cargo build) or set GRAMREC_BIN")
    return path


def run_cli(binary, *args):
    """Runs the CLI; returns stdout, failing the test with stderr on an error."""
    done = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, f"gramrec {' '.join(map(str, args))} failed: {done.stderr}"
    return done.stdout


def planted(users=600, items=400, rank=6, per_user=25, seed=0):
    """Play counts with a planted low-rank taste structure and popular
    items: user u plays item i with probability ~ softmax(x_u . y_i +
    popularity_i), a geometric number of times. A users x items CSR."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(users, rank))
    y = rng.normal(size=(items, rank))
    pop = rng.normal(scale=1.0, size=items)
    logits = x @ y.T + pop
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    rows, cols, vals = [], [], []
    for u in range(users):
        chosen = rng.choice(items, size=per_user, replace=False, p=p[u])
        rows.extend([u] * per_user)
        cols.extend(chosen)
        vals.extend(rng.geometric(0.4, size=per_user))
    return sp.csr_matrix((np.asarray(vals, dtype=np.float32), (rows, cols)), shape=(users, items))


@pytest.fixture(scope="session")
def plays():
    return planted()
