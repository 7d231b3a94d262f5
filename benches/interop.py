"""Helpers of benches/interop.sh.

python interop.py make USERS ITEMS FACTORS OUT.npz
    a seeded random implicit model (N(0, 0.1²) factors), as implicit saves it
python interop.py spark DIR USERS
    ALSModel.load(DIR) and recommendForAllUsers(10) (or, with USERS below
    the model's, recommendForUserSubset of the first USERS users), run to
    the end (the noop sink), timed
"""
import sys
import time

import numpy as np

if sys.argv[1] == "make":
    users, items, factors, out = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    rng = np.random.default_rng(42)
    np.savez(
        out,
        user_factors=(rng.standard_normal((users, factors), dtype=np.float32) * 0.1),
        item_factors=(rng.standard_normal((items, factors), dtype=np.float32) * 0.1),
        regularization=0.01,
        factors=factors,
        alpha=1.0,
        dtype="float32",
    )
else:
    from pyspark.ml.recommendation import ALSModel

    from local_spark import jvm_peak_kb, session

    folder, users = sys.argv[2], int(sys.argv[3])
    spark = session()
    start = time.time()
    model = ALSModel.load(folder)
    n = model.userFactors.count()
    loaded = time.time()
    if users < n:
        subset = model.userFactors.select("id").orderBy("id").limit(users).withColumnRenamed("id", "user")
        recs = model.recommendForUserSubset(subset, 10)
    else:
        recs = model.recommendForAllUsers(10)
    recs.write.format("noop").mode("overwrite").save()
    done = time.time()
    peak = jvm_peak_kb(spark)
    print(f"spark: load {loaded - start:.1f} s ({n} users), top 10 for {min(users, n)} users {done - loaded:.1f} s, "
          f"JVM peak {peak} KB", flush=True)
    spark.stop()
