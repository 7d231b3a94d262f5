"""NDCG@10 of the `lists` generator's own probabilities (benches/lists.py:
the Bayes-optimal ranking, each user's topic read from their training
items) against popularity, on a per-user split of lists.csv:
`python3 benches/lists_oracle.py train.csv test.csv`."""
import itertools
import csv, math, sys
from collections import Counter, defaultdict
train, test = sys.argv[1], sys.argv[2]
items = 17000
W = sum(1 / (i + 1) ** 0.8 for i in range(items))
def read(p):
    d = defaultdict(set)
    for r in csv.DictReader(open(p)):
        d[r["user"]].add(int(r["item"][1:]))
    return d
tr, te = read(train), read(test)
pop = Counter(i for s in tr.values() for i in s)
poprank = [i for i, _ in pop.most_common()]
def ndcg(ranked, rel):
    dcg = sum(1 / math.log2(k + 2) for k, i in enumerate(ranked) if i in rel)
    idcg = sum(1 / math.log2(k + 2) for k in range(min(len(rel), 10)))
    return dcg / idcg
o = p = 0.0; n = 0
for u, rel in te.items():
    seen = tr.get(u, set())
    topics = Counter(i // 340 for i in seen)
    # the topic: most training items in one range (ties: popular items add noise)
    t = topics.most_common(1)[0][0] if topics else -1
    m = len(seen) + len(rel)
    def prob(i):
        a = 1 - (1 - (1 / (i + 1) ** 0.8) / W) ** (m // 2)
        b = 1 - (1 - 1 / 340) ** (m - m // 2) if i // 340 == t else 0.0
        return 1 - (1 - a) * (1 - b)
    off = list(itertools.islice((i for i in range(items) if i // 340 != t and i not in seen), 10))
    on = [i for i in range(t * 340, t * 340 + 340) if i not in seen][:10] if t >= 0 else []
    best = sorted(off + on, key=lambda i: -prob(i))[:10]
    o += ndcg(best, rel)
    p += ndcg([i for i in poprank if i not in seen][:10], rel)
    n += 1
print(f"users {n}: oracle NDCG@10 {o/n:.4f}, popularity {p/n:.4f}")
