"""Helper of benches/families.sh: Bayesian probabilistic matrix factorisation
with biases (Salakhutdinov & Mnih, ICML 2008), sampled by Gibbs sampling in
NumPy: what issue 17's RMSE ≤ 0.900 would take. Not part of gramrec.

python bpmf.py TRAIN TEST SEED [FACTORS] [SWEEPS]
    TRAIN, TEST: tab-separated user, item, rating. Each user and item row is
    (factors…, bias) with a Normal–Wishart prior whose mean and precision are
    sampled too (μ₀ 0, β₀ 2, ν₀ the unknowns per row, W₀ I: the paper's
    hyperpriors); the noise precision has a Gamma(1, 1) prior and is sampled,
    so nothing is tuned. Prints the test RMSE of the predictive mean (the
    average of the samples' predictions after a burn-in of 20 sweeps) and of
    the posterior-mean factors (what a factor file could hold), predictions
    clipped to the training ratings' range, unknown users and items given the
    mean rating.
"""
import sys

import numpy as np


def read(path):
    a = np.loadtxt(path, dtype=str, delimiter="\t", usecols=(0, 1, 2))
    return a[:, 0], a[:, 1], a[:, 2].astype(np.float64)


tu, ti, r = read(sys.argv[1])
qu, qi, qr = read(sys.argv[2])
rng = np.random.default_rng(int(sys.argv[3]))
d = int(sys.argv[4]) if len(sys.argv) > 4 else 10
sweeps = int(sys.argv[5]) if len(sys.argv) > 5 else 200
burn_in = 20
uix = {u: k for k, u in enumerate(np.unique(tu))}
iix = {i: k for k, i in enumerate(np.unique(ti))}
u = np.array([uix[x] for x in tu])
i = np.array([iix[x] for x in ti])
known = np.array([a in uix and b in iix for a, b in zip(qu, qi)])
qu = np.array([uix.get(x, 0) for x in qu])
qi = np.array([iix.get(x, 0) for x in qi])
mean, lo, hi = r.mean(), r.min(), r.max()
e = d + 1  # factors and bias
rows_u = [np.flatnonzero(u == k) for k in range(len(uix))]
rows_i = [np.flatnonzero(i == k) for k in range(len(iix))]
x = np.zeros((len(uix), e))
y = rng.normal(0, 0.1, (len(iix), e))
y[:, d] = 0
noise = 1.0


def hyper(f):
    """Samples a side's prior (mean, precision) from its Normal–Wishart posterior."""
    n, beta0, nu0 = f.shape[0], 2.0, e
    mean_f = f.mean(0)
    scatter = np.cov(f.T, bias=True) * n
    beta = beta0 + n
    mu = n * mean_f / beta
    w = np.linalg.inv(np.eye(e) + scatter + beta0 * n / beta * np.outer(mean_f, mean_f))
    # Wishart(ν, W) by Bartlett's decomposition.
    chol = np.linalg.cholesky((w + w.T) / 2)
    a = np.tril(rng.standard_normal((e, e)), -1)
    a[np.diag_indices(e)] = np.sqrt(rng.chisquare(nu0 + n - np.arange(e)))
    la = chol @ a
    lam = la @ la.T
    return rng.multivariate_normal(mu, np.linalg.inv(beta * lam)), lam


def sample(f, g, rows, other):
    """Samples every row of `f` given the other side `g` (its bias in the last column)."""
    mu, lam = hyper(f)
    prior = lam @ mu
    for k, ks in enumerate(rows):
        gk = g[other[ks]].copy()
        offset = gk[:, d].copy()
        gk[:, d] = 1.0
        precision = lam + noise * gk.T @ gk
        chol = np.linalg.cholesky(precision)
        m = np.linalg.solve(precision, prior + noise * gk.T @ (r[ks] - mean - offset))
        f[k] = m + np.linalg.solve(chol.T, rng.standard_normal(e))


def predict(a, b):
    p = mean + np.sum(a[qu, :d] * b[qi, :d], 1) + a[qu, d] + b[qi, d]
    return np.where(known, p, mean)


def rmse(p):
    return np.sqrt(np.mean((np.clip(p, lo, hi) - qr) ** 2))


total = np.zeros(len(qr))
sum_x, sum_y, kept = np.zeros_like(x), np.zeros_like(y), 0
for sweep in range(sweeps):
    sample(x, y, rows_u, i)
    sample(y, x, rows_i, u)
    residual = r - mean - np.sum(x[u, :d] * y[i, :d], 1) - x[u, d] - y[i, d]
    noise = rng.gamma(1 + len(r) / 2, 1 / (1 + residual @ residual / 2))
    if sweep >= burn_in:
        total += predict(x, y)
        sum_x += x
        sum_y += y
        kept += 1
print(f"seed {sys.argv[3]}, {d} factors, {sweeps} sweeps: noise precision {noise:.3f}, "
      f"test RMSE predictive mean {rmse(total / kept):.4f}, "
      f"posterior-mean factors {rmse(predict(sum_x / kept, sum_y / kept)):.4f}")
