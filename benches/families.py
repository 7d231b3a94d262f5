"""Helper of benches/families.sh: EASE (Steck, "Embarrassingly Shallow
Autoencoders", WWW 2019), the item-item model most often set beside iALS,
and a per-user blend of its scores with gramrec's, each setting chosen on a
validation split and scored once on test.

python families.py FIT VAL TRAIN TEST FIT_NPY TRAIN_NPY
    FIT + VAL = TRAIN (a per-user split of it); *_NPY are `gramrec export
    --to npy` folders of gramrec's default model trained on FIT and on TRAIN.
    Files are tab-separated user, item, value; every value counts as seen.
NDCG@10 is computed as `gramrec evaluate` does: binary relevance, items seen
in training excluded, users with a test item counted.
"""
import sys

import numpy as np


def read(path):
    return [tuple(line.split("\t")[:2]) for line in open(path) if line.strip()]


fit, val, train, test = (read(p) for p in sys.argv[1:5])
users = sorted({u for u, _ in train})
items = sorted({i for _, i in train})
uix = {u: k for k, u in enumerate(users)}
iix = {i: k for k, i in enumerate(items)}


def matrix(pairs):
    x = np.zeros((len(users), len(items)))
    for u, i in pairs:
        x[uix[u], iix[i]] = 1.0
    return x


def ndcg(scores, seen, held, k=10):
    s = np.where(seen > 0, -np.inf, scores)
    relevant = {}
    for u, i in held:
        if u in uix and i in iix:
            relevant.setdefault(uix[u], set()).add(iix[i])
    total = 0.0
    for u, rel in relevant.items():
        top = np.argpartition(-s[u], k)[:k]
        top = top[np.argsort(-s[u][top])]
        dcg = sum(1 / np.log2(r + 2) for r, t in enumerate(top) if t in rel)
        total += dcg / sum(1 / np.log2(r + 2) for r in range(min(k, len(rel))))
    return total / len(relevant)


def ease(x, lam):
    p = np.linalg.inv(x.T @ x + lam * np.eye(x.shape[1]))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return x @ b


def gramrec(folder):
    u = np.load(f"{folder}/user_factors.npy")
    v = np.load(f"{folder}/item_factors.npy")
    uf = np.zeros((len(users), u.shape[1]))
    vf = np.zeros((len(items), v.shape[1]))
    for k, line in enumerate(open(f"{folder}/user_ids.txt")):
        uf[uix[line.strip()]] = u[k]
    for k, line in enumerate(open(f"{folder}/item_ids.txt")):
        vf[iix[line.strip()]] = v[k]
    return uf @ vf.T


def standard(s):
    return (s - s.mean(1, keepdims=True)) / s.std(1, keepdims=True)


def blend(a, b, w):
    return w * standard(a) + (1 - w) * standard(b)


x_fit, x_train = matrix(fit), matrix(train)
als_fit, als_train = gramrec(sys.argv[5]), gramrec(sys.argv[6])
lams = [50, 100, 200, 400, 800, 1600]
on_val = {lam: ndcg(ease(x_fit, lam), x_fit, val) for lam in lams}
for lam in lams:
    print(f"EASE λ {lam}: validation NDCG@10 {on_val[lam]:.4f}")
lam = max(lams, key=on_val.get)
ease_fit = ease(x_fit, lam)
weights = [0.0, 0.25, 0.5, 0.75, 1.0]
blend_val = {w: ndcg(blend(als_fit, ease_fit, w), x_fit, val) for w in weights}
for w in weights:
    print(f"blend, weight {w} on gramrec: validation NDCG@10 {blend_val[w]:.4f}")
w = max(weights, key=blend_val.get)
ease_train = ease(x_train, lam)
print(f"test NDCG@10: gramrec defaults {ndcg(als_train, x_train, test):.4f}, "
      f"EASE (λ {lam}) {ndcg(ease_train, x_train, test):.4f}, "
      f"blend (weight {w}) {ndcg(blend(als_train, ease_train, w), x_train, test):.4f}")
