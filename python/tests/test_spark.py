"""gramrec.spark on a real Spark (pyspark, local[2]): each function against
the CLI command it runs on the executors, rules against Spark's own
FPGrowth, and the errors a Spark user meets."""

import json
import os
import sys

import numpy as np
import pandas as pd
import pytest

import gramrec
from conftest import planted, run_cli

pyspark = pytest.importorskip("pyspark")
from gramrec import spark as gs  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # The executors' Python is this one, with the package installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("gramrec-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def events(names, seed=0):
    """Planted play counts as a frame: string IDs (u<row>, i<column>) or integers."""
    coo = planted(users=300, items=150, per_user=15, seed=seed).tocoo()
    user = [f"u{r}" for r in coo.row] if names else coo.row.astype(np.int64)
    item = [f"i{c}" for c in coo.col] if names else coo.col.astype(np.int64)
    return pd.DataFrame({"user": user, "item": item, "plays": coo.data.astype(np.int64)})


def cli_model(binary, frame, path, *flags):
    frame.to_csv(path.with_suffix(".csv"), index=False)
    run_cli(binary, "train", "-q", "--input", path.with_suffix(".csv"), "--out", path, "--factors", "8",
            "--iterations", "4", *flags)
    return path


def cli_all(binary, model, path):
    """`gramrec recommend --all` as {user: [(item, score)]}."""
    run_cli(binary, "recommend", "--model", model, "--all", "--k", "7", "--out", path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return {r["user"]: [(i["item"], i["score"]) for i in r["items"]] for r in lines}


def as_lists(rows, user_col="user"):
    return {str(r[user_col]): [(x["item"], x["score"]) for x in r["recommendations"]] for r in rows}


def assert_same_lists(ours, cli):
    assert ours.keys() == cli.keys()
    for user, expected in cli.items():
        assert [i for i, _ in ours[user]] == [i for i, _ in expected], user
        np.testing.assert_allclose([s for _, s in ours[user]], [s for _, s in expected], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("names", [True, False], ids=["string-ids", "integer-ids"])
def test_top_n_for_every_user_is_the_cli_s(spark, tmp_path, gramrec_bin, names):
    frame = events(names)
    model = cli_model(gramrec_bin, frame, tmp_path / "m")
    expected = cli_all(gramrec_bin, model, tmp_path / "all.jsonl")
    assert len(expected) == frame["user"].nunique()
    # Every user of the model (no users_df), then the users of a DataFrame,
    # whose ID column keeps its type.
    assert_same_lists(as_lists(gs.recommend_for_all_users(str(model), k=7).collect()), expected)
    users = spark.createDataFrame(frame[["user"]].drop_duplicates())
    top = gs.recommend_for_all_users(gramrec.load(model), users, k=7)
    assert top.schema["user"].dataType == users.schema["user"].dataType
    assert_same_lists(as_lists(top.collect()), expected)


def test_top_n_from_a_spark_alsmodel_is_the_cli_s(spark, tmp_path, gramrec_bin):
    from pyspark.ml.recommendation import ALS

    frame = events(False).rename(columns={"plays": "rating"})
    als = ALS(rank=6, maxIter=3, implicitPrefs=True, seed=1, userCol="user", itemCol="item", ratingCol="rating")
    als.fit(spark.createDataFrame(frame)).save(str(tmp_path / "spark-model"))
    run_cli(gramrec_bin, "import", "--from", "spark", "--kind", "implicit", tmp_path / "spark-model",
            "--out", tmp_path / "m")
    expected = cli_all(gramrec_bin, tmp_path / "m", tmp_path / "all.jsonl")
    assert_same_lists(as_lists(gs.recommend_for_all_users(tmp_path / "m", k=7).collect()), expected)


def test_unknown_users_are_skipped_given_popular_items_or_refused(spark, tmp_path, gramrec_bin):
    frame = events(True)
    model = gramrec.load(cli_model(gramrec_bin, frame, tmp_path / "m"))
    users = spark.createDataFrame(pd.DataFrame({"user": ["u1", "stranger", "u2"]}))
    assert sorted(r["user"] for r in gs.recommend_for_all_users(model, users, k=3).collect()) == ["u1", "u2"]
    popular = {r["user"]: r for r in gs.recommend_for_all_users(model, users, k=3, cold_start="popular").collect()}
    cli = json.loads(run_cli(gramrec_bin, "recommend", "--model", tmp_path / "m", "--user", "stranger",
                             "--k", "3", "--json"))
    assert [x["item"] for x in popular["stranger"]["recommendations"]] == [x["item"] for x in cli["items"]]
    with pytest.raises(Exception, match="user 'stranger' is not in the model"):
        gs.recommend_for_all_users(model, users, k=3, cold_start="error").collect()


def test_histories_fold_in_as_the_cli_does(spark, tmp_path, gramrec_bin):
    train, visitors = events(True), events(True, seed=1)
    model = cli_model(gramrec_bin, train, tmp_path / "m")
    visitors = visitors[visitors["user"].isin(["u3", "u40", "u41"])].copy()
    visitors["user"] = "v-" + visitors["user"]
    # One visitor knows only items the model lacks, one has an unknown item too.
    visitors = pd.concat([visitors, pd.DataFrame({"user": ["v-cold", "v-cold", "v-u3"],
                                                  "item": ["new1", "new2", "new1"], "plays": [1, 2, 3]})])
    rows = gs.recommend_for_histories(str(model), spark.createDataFrame(visitors), "user", "item", "plays",
                                      k=5).collect()
    assert len(rows) == visitors["user"].nunique()
    for row in rows:
        mine = visitors[visitors["user"] == row["user"]]
        history = ",".join(f"{i}:{v}" for i, v in zip(mine["item"], mine["plays"]))
        cli = json.loads(run_cli(gramrec_bin, "recommend", "--model", model, "--history", history, "--k", "5",
                                 "--json"))
        assert [x["item"] for x in row["recommendations"]] == [x["item"] for x in cli["items"]], row["user"]
        np.testing.assert_allclose([x["score"] for x in row["recommendations"]], [x["score"] for x in cli["items"]],
                                   rtol=1e-5, atol=1e-5)
        assert row["cold_start"] == (row["user"] == "v-cold")
        assert row["unknown_items"] == {"v-cold": 2, "v-u3": 1}.get(row["user"], 0)


def test_histories_with_a_missing_weight_fail_naming_the_user(spark, tmp_path, gramrec_bin):
    model = cli_model(gramrec_bin, events(True), tmp_path / "m")
    bad = spark.createDataFrame(pd.DataFrame({"user": ["a", "b"], "item": ["i1", "i2"], "plays": [1.0, np.nan]}))
    with pytest.raises(Exception, match="user 'b': the weight of 'i2' is not a finite number"):
        gs.recommend_for_histories(str(model), bad, "user", "item", "plays").collect()
    null = spark.createDataFrame([("a", "i1", 1.0), ("b", "i2", None)], "user string, item string, plays double")
    with pytest.raises(Exception, match="user 'b' has an interaction with a null 'plays'"):
        gs.recommend_for_histories(str(model), null, "user", "item", "plays").collect()
    nobody = spark.createDataFrame([(None, "i1", 1.0)], "user string, item string, plays double")
    with pytest.raises(Exception, match="interactions_df: column 'user' has a null user ID: filter them out first"):
        gs.recommend_for_histories(str(model), nobody, "user", "item", "plays").collect()


def test_rules_per_group_are_spark_fpgrowth_s_per_group(spark):
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    rng = np.random.default_rng(5)
    rows = []
    for store in ("north", "south", "east"):
        # Each store its own favourite pairs, so the groups' rules differ.
        pairs = rng.choice(12, size=(3, 2), replace=False)
        for basket in range(120):
            items = set(rng.choice(12, size=rng.integers(1, 5), replace=False).tolist())
            if rng.random() < 0.5:
                items.update(pairs[rng.integers(3)].tolist())
            rows.extend((store, f"{store}-{basket}", f"p{i}") for i in items)
    df = spark.createDataFrame(pd.DataFrame(rows, columns=["store", "basket", "item"]))
    ours = gs.rules_per_group(df, "store", "basket", "item", min_support=0.08, min_confidence=0.3).collect()
    assert {r["store"] for r in ours} == {"north", "south", "east"}
    for store in ("north", "south", "east"):
        baskets = df.filter(F.col("store") == store).groupBy("basket").agg(F.collect_set("item").alias("items"))
        spark_rules = FPGrowth(minSupport=0.08, minConfidence=0.3).fit(baskets).associationRules.collect()
        key = lambda r: (tuple(sorted(r["antecedent"])), tuple(r["consequent"]))  # noqa: E731
        theirs = {key(r): r for r in spark_rules}
        mine = {key(r): r for r in ours if r["store"] == store}
        assert mine.keys() == theirs.keys() and len(mine) > 5, store
        for k, r in mine.items():
            for column in ("confidence", "lift", "support"):
                assert r[column] == pytest.approx(theirs[k][column], rel=1e-9), (store, k, column)


def test_fit_on_a_dataframe_is_train_on_the_same_rows(spark, tmp_path, gramrec_bin):
    frame = events(False)
    ours = gs.fit(spark.createDataFrame(frame), "user", "item", "plays", factors=8, iterations=4,
                  show_progress=False)
    cli = gramrec.load(cli_model(gramrec_bin, frame, tmp_path / "m"))
    assert ours.params == cli.params
    order = {u: r for r, u in enumerate(ours.user_ids)}
    rows = [order[u] for u in cli.user_ids]
    np.testing.assert_allclose(ours.user_factors[rows], cli.user_factors, rtol=1e-4, atol=1e-5)


def test_a_fitted_model_becomes_a_spark_alsmodel(spark, plays, tmp_path, capfd):
    model = gramrec.ALS(factors=6, iterations=3, random_state=2).fit(plays, show_progress=False)
    als = gs.to_spark_model(model, spark, tmp_path / "made" / "here")
    assert als.rank == 6
    with pytest.raises(ValueError, match="already holds a Spark ALSModel folder"):
        gs.to_spark_model(model, spark, tmp_path / "made" / "here")
    als = gs.to_spark_model(model, spark, tmp_path / "made" / "here", overwrite=True)
    pairs = spark.createDataFrame(pd.DataFrame({"user": [0, 5, 9], "item": [3, 1, 7]}))
    predicted = {(r["user"], r["item"]): r["prediction"] for r in als.transform(pairs).collect()}
    for (u, i), p in predicted.items():
        assert p == pytest.approx(float(model.user_factors[u] @ model.item_factors[i]), rel=1e-5, abs=1e-6)
    # Text IDs become indices, mapped back through userIds/ and itemIds/.
    coo = plays.tocoo()
    frame = pd.DataFrame({"user": [f"u{r}" for r in coo.row], "item": [f"i{c}" for c in coo.col], "plays": coo.data})
    named = gramrec.ALS(factors=4, iterations=2).fit_frame(frame, "user", "item", "plays", show_progress=False)
    capfd.readouterr()
    als = gs.to_spark_model(named, spark, tmp_path / "named", user_col="uid", item_col="iid")
    assert "userIds (a Parquet table of id, the index, and label, the ID) maps them back" in capfd.readouterr().err
    users = spark.read.parquet(str(tmp_path / "named" / "userIds")).withColumnRenamed("id", "uid")
    items = spark.read.parquet(str(tmp_path / "named" / "itemIds")).withColumnRenamed("id", "iid")
    pair = users.filter("label = 'u5'").select("uid").crossJoin(items.filter("label = 'i3'").select("iid"))
    predicted = als.transform(pair).collect()[0]["prediction"]
    u, i = list(named.user_ids).index("u5"), list(named.item_ids).index("i3")
    assert predicted == pytest.approx(float(named.user_factors[u] @ named.item_factors[i]), rel=1e-5, abs=1e-6)


def test_errors_a_spark_user_can_act_on(spark, tmp_path, gramrec_bin):
    model = cli_model(gramrec_bin, events(True), tmp_path / "m")
    (tmp_path / "spark-folder" / "metadata").mkdir(parents=True)
    users = spark.createDataFrame(pd.DataFrame({"customer": ["u1"]}))
    with pytest.raises(ValueError, match="users_df has no column 'user' \\(it has customer\\)"):
        gs.recommend_for_all_users(str(model), users)
    with pytest.raises(OSError, match="nowhere: no such model directory"):
        gs.recommend_for_all_users(str(tmp_path / "nowhere"), users, user_col="customer")
    with pytest.raises(ValueError, match="df has no column 'basket'"):
        gs.rules_per_group(users, "customer", "basket", "item")
    baskets = spark.createDataFrame(pd.DataFrame({"store": ["a"], "basket": ["b1"], "item": ["i1"]}))
    with pytest.raises(ValueError, match="min_support must be a fraction of the baskets"):
        gs.rules_per_group(baskets, "store", "basket", "item", min_support=1.5)
    with pytest.raises(ValueError, match="min_confidence must be a number from 0 to 1, not 2"):
        gs.rules_per_group(baskets, "store", "basket", "item", min_confidence=2)
    with pytest.raises(ValueError, match="is a Spark ML model folder, not a gramrec model: make it one with `gramrec import"):
        gs.recommend_for_all_users(str(tmp_path / "spark-folder"), users, user_col="customer")
    nulls = spark.createDataFrame([("u1",), (None,)], "user string")
    with pytest.raises(Exception, match="users_df: column 'user' has a null user ID: filter them out first"):
        gs.recommend_for_all_users(str(model), nulls).collect()
    floats = spark.createDataFrame(pd.DataFrame({"user": [1.5], "item": ["i1"]}))
    with pytest.raises(ValueError, match="column 'user' holds floats"):
        gs.fit(floats, "user", "item")
    # An executor whose gramrec is not the driver's refuses to score.
    shipped = gs._ship(gramrec.load(model), spark)
    shipped.version = "0.0.0-other"
    scored = users.mapInArrow(lambda b: gs._score_users(b, shipped, "customer", 3, "skip"),
                              gs.recommend_for_all_users(str(model), users, user_col="customer").schema)
    with pytest.raises(Exception, match=r"gramrec \S+ on executor .*, 0.0.0-other on the driver: install the same"):
        scored.collect()
