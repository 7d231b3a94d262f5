"""Helpers of benches/rules.sh.

python rules.py make BASKETS ITEMS OUT
    seeded baskets, one a line: sizes 1 + Poisson(9) (mean 10), items drawn
    by power-law popularity (Zipf, s = 1) over ITEMS items, half of the
    baskets also drawing from one of 500 "aisles" of 12 items (the
    co-purchases that make itemsets frequent); no item twice in a basket
python rules.py spark FILE MIN_SUPPORT MIN_CONFIDENCE
    Spark's FPGrowth on FILE (local[2]): fit, freqItemsets and
    associationRules counted to the end, timed, with the JVM's peak memory
"""
import sys
import time

import numpy as np

if sys.argv[1] == "make":
    baskets, items, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rng = np.random.default_rng(7)
    weights = 1.0 / np.arange(1, items + 1)
    cdf = np.cumsum(weights) / weights.sum()
    aisles = rng.integers(0, items, size=(500, 12))
    sizes = 1 + rng.poisson(9, size=baskets)
    draws = np.searchsorted(cdf, rng.random(sizes.sum()))
    aisle_of = rng.integers(0, 500, size=baskets)
    use_aisle = rng.random(baskets) < 0.5
    starts = np.concatenate([[0], np.cumsum(sizes)])
    with open(out, "w") as f:
        for b in range(baskets):
            basket = set(draws[starts[b]:starts[b + 1]].tolist())
            if use_aisle[b]:
                aisle = aisles[aisle_of[b]]
                basket.update(aisle[rng.random(12) < 0.5].tolist())
            f.write(",".join(f"i{i}" for i in basket) + "\n")
else:
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    from local_spark import jvm_peak_kb, session

    path, support, confidence = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    spark = session()
    start = time.time()
    df = spark.read.text(path).select(F.split(F.col("value"), ",").alias("items")).cache()
    n = df.count()
    loaded = time.time()
    model = FPGrowth(itemsCol="items", minSupport=support, minConfidence=confidence).fit(df)
    itemsets = model.freqItemsets.count()
    rules = model.associationRules.count()
    done = time.time()
    peak = jvm_peak_kb(spark)
    print(f"spark FPGrowth: read {loaded - start:.1f} s ({n} baskets), mining {done - loaded:.1f} s: "
          f"{itemsets} itemsets, {rules} rules, JVM peak {peak} KB", flush=True)
    spark.stop()
