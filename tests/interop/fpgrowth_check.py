"""The Spark side of tests/rules.rs.

Usage: python fpgrowth_check.py WORK MIN_SUPPORT MIN_CONFIDENCE

Reads WORK/baskets.txt (one basket a line, items separated by commas, no
repeats) and writes Spark's FPGrowth freqItemsets to
WORK/spark-itemsets.jsonl ({items, freq}) and associationRules to
WORK/spark-rules.jsonl ({antecedent, consequent, confidence, lift, support}).
"""
import json
import os
import sys

from pyspark.ml.fpm import FPGrowth
from pyspark.sql import SparkSession

work, min_support, min_confidence = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
baskets = [line.rstrip("\n").split(",") for line in open(os.path.join(work, "baskets.txt")) if line.strip()]
df = spark.createDataFrame([(b,) for b in baskets], ["items"])
model = FPGrowth(itemsCol="items", minSupport=min_support, minConfidence=min_confidence).fit(df)
with open(os.path.join(work, "spark-itemsets.jsonl"), "w") as out:
    for r in model.freqItemsets.collect():
        out.write(json.dumps({"items": sorted(r["items"]), "freq": r["freq"]}) + "\n")
with open(os.path.join(work, "spark-rules.jsonl"), "w") as out:
    for r in model.associationRules.collect():
        row = {k: r[k] for k in ["confidence", "lift", "support"]}
        row.update(antecedent=sorted(r["antecedent"]), consequent=r["consequent"])
        out.write(json.dumps(row) + "\n")
spark.stop()
