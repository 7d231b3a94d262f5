"""The Spark side of tests/interop.rs, in one Spark session (starting one
costs tens of seconds).

Usage: python spark_check.py WORK

WORK holds explicit.csv and implicit.csv (user,item[,rating]; IDs u0, i0…)
and the gramrec exports export-*/ (ALSModel folders). This script

* loads every export-*/ with ALSModel.load and writes, beside it,
  NAME.transform.jsonl (the prediction of every user and item pair) and
  NAME.recs.jsonl (recommendForAllUsers(10));
* trains Spark's own ALS on the data and saves spark-explicit/,
  spark-implicit/ (integer IDs) and spark-strings/ (string IDs through
  StringIndexer, saved as user-indexer/ and item-indexer/), each with its
  NAME.recs.jsonl, user and item IDs as the data spells them;
* saves a PipelineModel holding an ALS stage as spark-pipeline/, for the
  error test.
"""
import json
import os
import sys

from pyspark.ml import Pipeline
from pyspark.ml.feature import StringIndexer
from pyspark.ml.recommendation import ALS, ALSModel
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

work = sys.argv[1]
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "4")
    .config("spark.ui.showConsoleProgress", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")


def write_recs(model, path, users=None, items=None):
    """recommendForAllUsers(10) as JSON lines {user, items: [{item, score}]}."""
    with open(path, "w") as out:
        for row in model.recommendForAllUsers(10).collect():
            user = users[row[0]] if users else str(row[0])
            recs = [{"item": items[r[0]] if items else str(r[0]), "score": r[1]} for r in row[1]]
            out.write(json.dumps({"user": user, "items": recs}) + "\n")


def read(name, rating=True):
    df = spark.read.csv(os.path.join(work, name), header=True, inferSchema=False)
    if rating:
        df = df.withColumn("rating", F.col("rating").cast("float"))
    else:
        df = df.withColumn("rating", F.lit(1.0).cast("float"))
    return df


# gramrec's exports, loaded by Spark.
for name in sorted(os.listdir(work)):
    path = os.path.join(work, name)
    if not (name.startswith("export-") and os.path.isdir(path)):
        continue
    model = ALSModel.load(path)
    # IDs that are not integers were exported as indices with a label table.
    labels = {}
    for side in ["user", "item"]:
        table = os.path.join(path, side + "Ids")
        if os.path.isdir(table):
            labels[side] = {r["id"]: r["label"] for r in spark.read.parquet(table).collect()}
        else:
            labels[side] = {r["id"]: str(r["id"]) for r in getattr(model, side + "Factors").collect()}
    pairs = model.userFactors.select(F.col("id").alias("user")).crossJoin(
        model.itemFactors.select(F.col("id").alias("item"))
    )
    with open(path + ".transform.jsonl", "w") as out:
        for r in model.transform(pairs).collect():
            row = {"user": labels["user"][r["user"]], "item": labels["item"][r["item"]], "prediction": r["prediction"]}
            out.write(json.dumps(row) + "\n")
    write_recs(model, path + ".recs.jsonl", labels["user"], labels["item"])

# Spark's own models on integer IDs.
for kind in ["explicit", "implicit"]:
    df = read(kind + ".csv", rating=(kind == "explicit"))
    df = df.withColumn("user", F.expr("cast(substring(user, 2) as int)")).withColumn(
        "item", F.expr("cast(substring(item, 2) as int)")
    )
    als = ALS(rank=6, maxIter=6, regParam=0.1, implicitPrefs=(kind == "implicit"), alpha=2.0, seed=7)
    model = als.fit(df)
    model.save(os.path.join(work, "spark-" + kind))
    write_recs(model, os.path.join(work, "spark-" + kind + ".recs.jsonl"))

# String IDs through StringIndexer, as Spark pipelines index them.
df = read("explicit.csv")
user_indexer = StringIndexer(inputCol="user", outputCol="userIndex").fit(df)
item_indexer = StringIndexer(inputCol="item", outputCol="itemIndex").fit(df)
user_indexer.save(os.path.join(work, "user-indexer"))
item_indexer.save(os.path.join(work, "item-indexer"))
indexed = item_indexer.transform(user_indexer.transform(df))
als = ALS(rank=5, maxIter=5, regParam=0.1, userCol="userIndex", itemCol="itemIndex", seed=3)
model = als.fit(indexed)
model.save(os.path.join(work, "spark-strings"))
users, items = user_indexer.labelsArray[0], item_indexer.labelsArray[0]
write_recs(model, os.path.join(work, "spark-strings.recs.jsonl"), users, items)

# A pipeline holding ALS: not an ALSModel itself.
Pipeline(stages=[ALS(rank=2, maxIter=1, seed=1)]).fit(read("explicit.csv").withColumn(
    "user", F.expr("cast(substring(user, 2) as int)")).withColumn(
    "item", F.expr("cast(substring(item, 2) as int)"))).save(os.path.join(work, "spark-pipeline"))
spark.stop()
