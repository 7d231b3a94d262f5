"""One-line-per-user lists on a wide catalogue, for benches/auto.sh and
benches/default_check.sh: `python3 benches/lists.py lists|cites OUT.csv`.

lists: 5,500 users x 17,000 items, ~16 items each (log-normal), half from a
power law over the catalogue and half from one of 50 topics of 340 items.
Its generator's own probabilities rank no better than popularity at top 10
(the top 17 items by popularity are likelier than any topic item), so no
model can beat popularity there by more than noise (BENCHMARKS.md).

cites: citation-like, 5,500 users x 17,000 items, ~20 items each: 200
topics of 85 items scattered over the IDs, each user reading in 1-3 topics
(85% of their items, a power law within the topic) and picking the rest by
global popularity. Here the topics are what predicts.
"""
import random
import sys


def lists(out):
    rng = random.Random(1)
    users, items = 5500, 17000
    weights = [1 / (i + 1) ** 0.8 for i in range(items)]
    with open(out, "w") as f:
        f.write("user,item\n")
        for u in range(users):
            n = max(1, int(rng.lognormvariate(2.5, 0.8)))
            topic = rng.randrange(50)
            chosen = set(rng.choices(range(items), weights, k=n // 2))
            chosen.update((topic * 340 + rng.randrange(340)) % items for _ in range(n - n // 2))
            f.writelines(f"u{u},i{i}\n" for i in sorted(chosen))


def cites(out):
    rng = random.Random(2)
    users, items, topics = 5500, 17000, 200
    size = items // topics
    within = [1 / (r + 1) for r in range(size)]
    glob = [1 / (i + 1) ** 0.8 for i in range(items)]
    perm = list(range(items))
    rng.shuffle(perm)
    with open(out, "w") as f:
        f.write("user,item\n")
        for u in range(users):
            n = max(3, int(rng.lognormvariate(2.9, 0.7)))
            mine = rng.sample(range(topics), 1 + min(2, int(rng.expovariate(1.2))))
            chosen = set()
            for _ in range(n):
                if rng.random() < 0.85:
                    t = rng.choice(mine)
                    chosen.add(perm[t * size + rng.choices(range(size), within)[0]])
                else:
                    chosen.add(perm[rng.choices(range(items), glob)[0]])
            f.writelines(f"u{u},i{i}\n" for i in sorted(chosen))


if __name__ == "__main__":
    {"lists": lists, "cites": cites}[sys.argv[1]](sys.argv[2])
