#!/usr/bin/env python3
"""Seeded rule-heavy baskets for timing rule generation (BENCHMARKS.md,
"The rule count checked before rules are kept"): 100,000 baskets of 2-12
distinct items drawn from 300 items with Zipf-like popularity (weight
1/(k+1)^0.8), one basket a line, comma-separated.

Usage: python3 benches/dense_baskets.py OUT.csv
"""
import random
import sys

random.seed(7)
items = [f"i{k}" for k in range(300)]
weights = [1 / (k + 1) ** 0.8 for k in range(300)]
with open(sys.argv[1], "w") as f:
    for _ in range(100_000):
        n = random.randint(2, 12)
        f.write(",".join(sorted(set(random.choices(items, weights=weights, k=n)))) + "\n")
