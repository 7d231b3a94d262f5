"""The seeded 80/20 splits of MovieLens 100K the benchmarks score on: random over
ratings (rand_*.tsv) and per user, 20% of each user's ratings (user_*.tsv).
Usage: python3 benches/ml100k_split.py path/to/u.data out_dir"""
import random, sys
from collections import defaultdict
lines = open(sys.argv[1]).read().splitlines()
out = sys.argv[2]
rng = random.Random(42); idx = list(range(len(lines))); rng.shuffle(idx)
train = set(idx[:int(0.8 * len(lines))])
def write(name, keep):
    open(f"{out}/{name}", "w").write("\n".join(l for i, l in enumerate(lines) if keep(i)) + "\n")
write("rand_train.tsv", lambda i: i in train); write("rand_test.tsv", lambda i: i not in train)
by_user = defaultdict(list)
for i, l in enumerate(lines): by_user[l.split("\t")[0]].append(i)
rng = random.Random(42); test = set()
for ix in by_user.values():
    ix = ix[:]; rng.shuffle(ix); test.update(ix[:int(round(0.2 * len(ix)))])
write("user_train.tsv", lambda i: i not in test); write("user_test.tsv", lambda i: i in test)
