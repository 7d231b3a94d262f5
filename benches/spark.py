#!/usr/bin/env python3
"""gramrec.spark beside Spark MLlib on one Spark (local[2], 12 GB driver),
one run, each step alone. Prints one line per figure. benches/spark.sh
makes the model and the builds.

- top: top 10 per user of a gramrec model (MODEL, e.g. 1M users x 100k
  items x 64 factors) as an ALSModel (SPARK_MODEL, its `export --to spark`):
  Spark's recommendForUserSubset on the first --subset users (by ID) against
  gramrec.spark.recommend_for_all_users on the same users and on every
  user; each run to the end by the noop sink, the model's shipping included.
- rules: --baskets baskets in --stores stores (items drawn from a
  per-store Zipf law, 1-8 per basket): rules_per_group over every store,
  and Spark's FPGrowth fitted per store (a loop over stores, as a Spark user
  writes it) for the first --spark-stores stores; per-store times compared.
- fit: gramrec.spark.fit on a --rows-row DataFrame of counts (users
  uniform, 20 rows each on average; items from a Zipf law over 100,000):
  the collect to the driver and the training, timed apart.

Usage: python benches/spark.py --model DIR --spark-model DIR [--subset N]
"""
import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def session():
    import local_spark

    return local_spark.session(**{"spark.sql.execution.arrow.pyspark.enabled": "true",
                                  "spark.sql.shuffle.partitions": "8"})


def timed(what, run):
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"{what}: {seconds:.1f} s", flush=True)
    return seconds, result


def top(spark, args):
    import gramrec
    from gramrec import spark as gs
    from pyspark.ml.recommendation import ALSModel

    als = ALSModel.load(args.spark_model)
    subset = als.userFactors.select("id").orderBy("id").limit(args.subset).withColumnRenamed("id", "user").cache()
    subset.count()
    theirs, _ = timed(f"spark recommendForUserSubset, {args.subset} users",
                      lambda: als.recommendForUserSubset(subset, 10).write.format("noop").mode("overwrite").save())
    model = gramrec.load(args.model)
    ours, _ = timed(f"gramrec recommend_for_all_users, the same {args.subset} users",
                    lambda: gs.recommend_for_all_users(model, subset, k=10).write.format("noop").mode("overwrite")
                    .save())
    n = len(model.user_ids)
    every, _ = timed(f"gramrec recommend_for_all_users, every user ({n})",
                     lambda: gs.recommend_for_all_users(model, k=10).write.format("noop").mode("overwrite").save())
    print(f"top: spark {args.subset / theirs:.0f} users/s, gramrec {args.subset / ours:.0f} users/s on the subset "
          f"({theirs / ours:.1f}x), {n / every:.0f} users/s on every user ({theirs / args.subset / (every / n):.1f}x "
          "per user)", flush=True)


def baskets(args):
    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 9, size=args.baskets)
    basket = np.repeat(np.arange(args.baskets), sizes)
    store = (basket % args.stores).astype(np.int32)
    # Each store ranks the 2,000 items its own way (a Zipf law over a
    # per-store permutation), so stores' rules differ.
    ranks = np.minimum(rng.zipf(1.3, size=len(basket)) - 1, 1999)
    perms = np.stack([rng.permutation(2000) for _ in range(args.stores)])
    item = perms[store, ranks]
    frame = pd.DataFrame({"store": store, "basket": basket.astype(np.int64), "item": item.astype(np.int64)})
    return frame.drop_duplicates()


def rules(spark, args):
    from gramrec import spark as gs
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    frame = baskets(args)
    df = spark.createDataFrame(frame).cache()
    print(f"rules: {args.baskets} baskets, {len(frame)} (basket, item) rows, {args.stores} stores; "
          f"min support {args.support}, min confidence {args.confidence}", flush=True)
    df.count()
    counted = {}

    def ours():
        found = gs.rules_per_group(df, "store", "basket", "item", min_support=args.support,
                                   min_confidence=args.confidence).cache()
        counted["rules"] = found.count()
        counted["stores"] = found.select("store").distinct().count()

    seconds, _ = timed(f"gramrec rules_per_group, {args.stores} stores", ours)
    print(f"gramrec: {counted['rules']} rules in {counted['stores']} stores", flush=True)
    theirs, n_rules = 0.0, 0
    for store in range(args.spark_stores):
        items = (df.filter(F.col("store") == store).withColumn("item", F.col("item").cast("string"))
                 .groupBy("basket").agg(F.collect_set("item").alias("items")))
        start = time.perf_counter()
        fitted = FPGrowth(minSupport=args.support, minConfidence=args.confidence).fit(items)
        n_rules += fitted.associationRules.count()
        theirs += time.perf_counter() - start
    print(f"spark FPGrowth per store, {args.spark_stores} stores: {theirs:.1f} s, {n_rules} rules", flush=True)
    per_ours, per_theirs = seconds / args.stores, theirs / args.spark_stores
    print(f"rules: per store gramrec {per_ours:.2f} s, spark {per_theirs:.2f} s ({per_theirs / per_ours:.1f}x)",
          flush=True)


def fit(spark, args):
    from gramrec import spark as gs

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "user": rng.integers(0, args.rows // 20, size=args.rows, dtype=np.int64),
        "item": np.minimum(rng.zipf(1.05, size=args.rows), 100_000).astype(np.int64),
        "plays": rng.geometric(0.3, size=args.rows).astype(np.int32),
    })
    df = spark.createDataFrame(frame).cache()
    df.count()
    del frame
    timed(f"gramrec.spark.fit, {args.rows} rows, 64 factors, {args.iterations} iterations (collect and training "
          "printed apart above)", lambda: gs.fit(df, "user", "item", "plays", factors=64,
                                                 iterations=args.iterations, show_progress=False))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--spark-model", required=True)
    parser.add_argument("--subset", type=int, default=10_000)
    parser.add_argument("--baskets", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--spark-stores", type=int, default=10)
    parser.add_argument("--support", type=float, default=0.01)
    parser.add_argument("--confidence", type=float, default=0.1)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--only", choices=["top", "rules", "fit"], action="append")
    args = parser.parse_args()
    spark = session()
    for step in args.only or ["top", "rules", "fit"]:
        {"top": top, "rules": rules, "fit": fit}[step](spark, args)
        spark.catalog.clearCache()
    spark.stop()


if __name__ == "__main__":
    main()
