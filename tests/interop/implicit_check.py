"""The implicit side of tests/interop.rs.

Usage: python implicit_check.py WORK

WORK holds implicit.csv (user,item) and gramrec's export export.npz with
export.user_ids.txt and export.item_ids.txt. This script

* loads export.npz with AlternatingLeastSquares.load and writes
  export.recs.jsonl: recommend(user, user_items, N=10) for every user, the
  user's training items filtered out as implicit does by default;
* reads export-npy/ (gramrec's NumPy export) with np.load and writes
  npy.recs.jsonl: each user's 10 best items by the dot product alone;
* trains implicit's own ALS on the data, saves own.npz with its row IDs in
  own-users.txt and own-items.txt, and writes own.recs.jsonl the same way.
"""
import json
import os
import sys

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from scipy.sparse import csr_matrix

work = sys.argv[1]
rows = [line.strip().split(",") for line in open(os.path.join(work, "implicit.csv"))][1:]


def user_items(users, items):
    """The data as a users × items CSR matrix in the given row orders."""
    u = {v: k for k, v in enumerate(users)}
    i = {v: k for k, v in enumerate(items)}
    pairs = sorted({(u[a], i[b]) for a, b in rows if a in u and b in i})
    r, c = zip(*pairs)
    return csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(users), len(items)))


def write_recs(model, matrix, users, items, path):
    with open(path, "w") as out:
        for row, user in enumerate(users):
            ids, scores = model.recommend(row, matrix[row], N=10, filter_already_liked_items=True)
            recs = [{"item": items[i], "score": float(s)} for i, s in zip(ids, scores)]
            out.write(json.dumps({"user": user, "items": recs}) + "\n")


def lines(name):
    return open(os.path.join(work, name)).read().splitlines()


users, items = lines("export.user_ids.txt"), lines("export.item_ids.txt")
model = AlternatingLeastSquares.load(os.path.join(work, "export.npz"))
write_recs(model, user_items(users, items), users, items, os.path.join(work, "export.recs.jsonl"))

users = sorted({a for a, _ in rows})
items = sorted({b for _, b in rows})
matrix = user_items(users, items)
own = AlternatingLeastSquares(factors=8, regularization=0.5, alpha=2.0, iterations=6, random_state=5)
own.fit(matrix, show_progress=False)
own.save(os.path.join(work, "own.npz"))
for name, ids in [("own-users.txt", users), ("own-items.txt", items)]:
    with open(os.path.join(work, name), "w") as out:
        out.write("".join(i + "\n" for i in ids))
write_recs(own, matrix, users, items, os.path.join(work, "own.recs.jsonl"))

folder = os.path.join(work, "export-npy")
U, V = np.load(os.path.join(folder, "user_factors.npy")), np.load(os.path.join(folder, "item_factors.npy"))
users, items = lines("export-npy/user_ids.txt"), lines("export-npy/item_ids.txt")
with open(os.path.join(work, "npy.recs.jsonl"), "w") as out:
    for row, user in enumerate(users):
        scores = U[row] @ V.T
        best = np.argsort(-scores, kind="stable")[:10]
        recs = [{"item": items[i], "score": float(scores[i])} for i in best]
        out.write(json.dumps({"user": user, "items": recs}) + "\n")
