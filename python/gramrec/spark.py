"""gramrec inside a Spark cluster: top-N for every user, fold-in of users
the model has not seen and association rules per group run on the
executors with gramrec's kernels, and training from a Spark DataFrame on
the driver. Results are ordinary Spark DataFrames.

    >>> from gramrec import spark as gs
    >>> model = gs.fit(events, "user", "item", "plays", factors=64)   # on the driver
    >>> top = gs.recommend_for_all_users(model, k=10)                 # on the executors
    >>> top.write.parquet("s3://bucket/top10")

The model is shipped once per call from the driver (its two files through
``SparkContext.addFile``) and loaded once per Python worker, so executors
need no shared storage, only the same gramrec wheel as the driver, with
pyarrow (``gramrec[frames]``; docs/SPARK.md). Spark 4.0 or newer, classic
(not Spark Connect). Every function here is lazy, as Spark is: the work
runs when the result is written or collected.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import time
import uuid

import numpy as np

from . import ALS, _arrow_strings, _confidence, _gramrec, _min_support, _say, _whole, load

__all__ = ["fit", "recommend_for_all_users", "recommend_for_histories", "rules_per_group", "to_spark_model"]

# What a choice of cold_start does with users the model does not know.
_COLD_START = ("skip", "popular", "error")


# -- shipping the model to the executors ---------------------------------------


class _Shipped:
    """A model's files added to Spark's context under a key naming this
    shipment, with the gramrec version of the driver that sent them."""

    def __init__(self, key, version):
        self.key, self.version = key, version


# The models loaded by this Python worker, by shipment key: an executor's
# worker is reused across tasks, so each loads a model once. Only the
# latest is kept.
_LOADED = {}

# The driver's staged model files, served to the executors while jobs run;
# removed when the driver's Python exits.
_STAGED = []


def _model(value):
    """An :class:`ALS` from an ALS (fitted or loaded) or a model directory's path."""
    if isinstance(value, ALS):
        value._require()
        return value
    if isinstance(value, (str, os.PathLike)):
        return load(value)
    raise TypeError(f"model must be a gramrec.ALS or the path of a model directory, not {type(value).__name__}")


def _staging():
    """A folder of this driver's own for staged model files."""
    if not _STAGED:
        _STAGED.append(tempfile.mkdtemp(prefix="gramrec-spark-"))
        atexit.register(shutil.rmtree, _STAGED[0], True)
    return _STAGED[0]


def _ship(model, spark):
    """Saves ``model``'s two files into a folder of their own and adds it to
    ``spark``'s context (``SparkContext.addFile``): each executor fetches it
    once, and its Python workers read it from the executor's disk."""
    from pyspark import __version__ as spark_version

    if int(spark_version.split(".")[0]) < 4:
        raise RuntimeError(f"gramrec.spark needs Spark 4.0 or newer (mapInArrow, applyInArrow, toArrow); this is "
                           f"pyspark {spark_version}")
    try:
        context = spark.sparkContext
    except Exception as e:  # Spark Connect has no SparkContext
        raise RuntimeError("gramrec.spark needs a classic Spark session, not Spark Connect (it ships the model "
                           f"with SparkContext.addFile): {e}") from None
    key = f"gramrec-{uuid.uuid4().hex}"
    folder = os.path.join(_staging(), key)
    model._require().save(folder, None, [])
    context.addFile(folder, recursive=True)
    return _Shipped(key, _gramrec.__version__)


def _check_version(version):
    """Refuses a gramrec on this executor that is not the driver's ``version``."""
    if version != _gramrec.__version__:
        raise RuntimeError(
            f"gramrec {_gramrec.__version__} on executor {socket.gethostname()}, {version} on the driver: "
            "install the same gramrec wheel on the driver and the executors (docs/SPARK.md)")


def _loaded(shipped):
    """The shipped model in this worker, (model, item IDs as an Arrow
    array), loaded on first use."""
    _check_version(shipped.version)
    if shipped.key not in _LOADED:
        import pyarrow as pa
        from pyspark import SparkFiles

        _LOADED.clear()
        model = _gramrec.load(SparkFiles.get(shipped.key), scoring_only=True)
        _LOADED[shipped.key] = (model, pa.array(model.item_ids(), type=pa.string()))
    return _LOADED[shipped.key]


# -- DataFrame checks and shapes -----------------------------------------------


def _require_columns(df, name, columns):
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"{name} has no column '{missing[0]}' (it has {', '.join(df.columns)})")


def _id_column(df, name, column):
    """Refuses an ID column of floats, as gramrec.interactions does."""
    from pyspark.sql.types import DoubleType, FloatType

    if isinstance(df.schema[column].dataType, (FloatType, DoubleType)):
        raise ValueError(f"{name}: column '{column}' holds floats: IDs must be integers or text")


def _recommendations_type():
    from pyspark.sql.types import ArrayType, FloatType, StringType, StructField, StructType

    return ArrayType(StructType([StructField("item", StringType(), False), StructField("score", FloatType(), False)]),
                     False)


def _ranked(rows, scores, item_ids):
    """(item rows, scores), padded with -1 where a list is short, as an
    Arrow list of {item, score} per user."""
    import pyarrow as pa

    valid = rows >= 0
    offsets = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(valid.sum(axis=1), out=offsets[1:])
    entries = pa.StructArray.from_arrays(
        [item_ids.take(pa.array(rows[valid])), pa.array(scores[valid], type=pa.float32())], names=["item", "score"])
    return pa.ListArray.from_arrays(pa.array(offsets), entries)


def _spark_session():
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        raise RuntimeError("no active SparkSession: create one, or pass users_df")
    return spark


# -- scoring on the executors -------------------------------------------------


def recommend_for_all_users(model, users_df=None, k=10, user_col="user", cold_start="skip"):
    """Top ``k`` items for each user of ``users_df`` (a Spark DataFrame with
    a ``user_col`` column), or for every user of the model when it is None:
    a DataFrame ``(user_col, recommendations: array<struct<item: string,
    score: float>>)`` shaped like Spark's ``recommendForAllUsers``, best
    first, each user's training items left out as ``gramrec recommend
    --all`` leaves them (where the model records them: models gramrec trains
    do, models imported from Spark do not).

    Runs with ``mapInArrow`` on the executors: ``model`` (a
    :class:`gramrec.ALS` or a model directory the driver reads) is shipped
    once and users are scored in blocks by the kernel ``recommend --all``
    uses. ``cold_start`` says what a user the model does not know gets:
    "skip" (no row, as Spark's ``recommendForUserSubset``), "popular" (the
    most popular items) or "error" (the job fails naming the user)."""
    from pyspark.sql.types import StructField, StructType

    k = _whole("k", k, minimum=1)
    if cold_start not in _COLD_START:
        raise ValueError(f"cold_start must be one of {', '.join(_COLD_START)}, not {cold_start!r}")
    model = _model(model)
    if users_df is None:
        return _score_every_user(model, _spark_session(), k, user_col)
    spark = users_df.sparkSession
    _require_columns(users_df, "users_df", [user_col])
    _id_column(users_df, "users_df", user_col)
    shipped = _ship(model, spark)
    schema = StructType([users_df.schema[user_col], StructField("recommendations", _recommendations_type(), False)])

    def score(batches):
        return _score_users(batches, shipped, user_col, k, cold_start)

    return users_df.select(user_col).mapInArrow(score, schema)


def _score_every_user(model, spark, k, user_col):
    """:func:`recommend_for_all_users` for every user of ``model``: the
    executors score the model's rows (``spark.range``), so no ID passes
    through the driver and none is looked up."""
    from pyspark.sql.types import StringType, StructField, StructType

    shipped = _ship(model, spark)
    rows = spark.range(len(model._require().user_ids()), numPartitions=spark.sparkContext.defaultParallelism)
    schema = StructType([StructField(user_col, StringType(), False),
                         StructField("recommendations", _recommendations_type(), False)])

    def score(batches):
        return _score_rows(batches, shipped, user_col, k)

    return rows.mapInArrow(score, schema)


def _score_rows(batches, shipped, user_col, k):
    """mapInArrow's function for :func:`_score_every_user`: batches of model rows."""
    import pyarrow as pa

    m, item_ids = _loaded(shipped)
    user_ids = None
    for batch in batches:
        if user_ids is None:
            user_ids = pa.array(m.user_ids(), type=pa.string())
        rows = np.asarray(batch.column(0), dtype=np.int64)
        top, scores = m.recommend_rows(rows, k)
        yield pa.RecordBatch.from_arrays([user_ids.take(pa.array(rows)), _ranked(top, scores, item_ids)],
                                         names=[user_col, "recommendations"])


def _score_users(batches, shipped, user_col, k, cold_start):
    """mapInArrow's function for :func:`recommend_for_all_users`."""
    import pyarrow as pa

    m, item_ids = _loaded(shipped)
    for batch in batches:
        users = batch.column(0)
        if users.null_count:
            raise ValueError(f"users_df: column '{user_col}' has a null user ID: filter them out first")
        rows = m.user_rows(*_arrow_strings(batch, user_col))
        known = rows >= 0
        if cold_start == "error" and not known.all():
            raise ValueError(f"user '{users[int(np.argmin(known))]}' is not in the model (cold_start='error')")
        if cold_start == "skip":
            users, rows = users.filter(pa.array(known)), rows[known]
            known = np.ones(len(rows), dtype=bool)
        top = np.full((len(rows), min(k, len(item_ids))), -1, dtype=np.int64)
        scores = np.zeros(top.shape, dtype=np.float32)
        top[known], scores[known] = m.recommend_rows(rows[known], k)
        if not known.all():
            nobody = np.zeros((~known).sum() + 1, dtype=np.int64)
            (top[~known], scores[~known]), _, _ = m.recommend_histories(
                nobody, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint8), k)
        yield pa.RecordBatch.from_arrays([users, _ranked(top, scores, item_ids)],
                                         names=[user_col, "recommendations"])


def recommend_for_histories(model, interactions_df, user_col, item_col, value_col=None, k=10):
    """Top ``k`` items for users the model has not seen, from their
    interactions in ``interactions_df`` (one row per interaction; ``value_col``
    the weight or rating, 1 when None), each user folded in on the executors
    as ``gramrec recommend --history`` folds in a visitor: item IDs the model
    does not know are ignored, the history's items left out, and a user with
    no known item gets the popular items.

    A DataFrame ``(user_col, recommendations, cold_start: boolean,
    unknown_items: int)``: recommendations as :func:`recommend_for_all_users`
    gives them, ``cold_start`` true for a user given the popular items, and
    ``unknown_items`` the number of distinct item IDs the model did not know.
    Interactions are grouped by user with Spark's ``collect_list`` (a
    shuffle); a weight that is missing or not a finite number fails the job
    naming the user."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType, IntegerType, StructField, StructType

    k = _whole("k", k, minimum=1)
    model = _model(model)
    _require_columns(interactions_df, "interactions_df", [user_col, item_col, value_col])
    _id_column(interactions_df, "interactions_df", item_col)
    entry = [F.col(item_col).cast("string").alias("item")]
    if value_col is not None:
        entry.append(F.col(value_col).cast("double").alias("weight"))
    grouped = interactions_df.groupBy(user_col).agg(F.collect_list(F.struct(*entry)).alias("history"))
    shipped = _ship(model, interactions_df.sparkSession)
    schema = StructType([
        interactions_df.schema[user_col], StructField("recommendations", _recommendations_type(), False),
        StructField("cold_start", BooleanType(), False), StructField("unknown_items", IntegerType(), False),
    ])

    def score(batches):
        return _score_histories(batches, shipped, user_col, item_col, value_col, k)

    return grouped.mapInArrow(score, schema)


def _score_histories(batches, shipped, user_col, item_col, value_col, k):
    """mapInArrow's function for :func:`recommend_for_histories`."""
    import pyarrow as pa

    m, item_ids = _loaded(shipped)
    for batch in batches:
        users, histories = batch.column(0), batch.column(1)
        if users.null_count:
            raise ValueError(f"interactions_df: column '{user_col}' has a null user ID: filter them out first")
        indptr = np.asarray(histories.offsets, dtype=np.int64)
        entries = histories.flatten()
        indptr = indptr - indptr[0]
        user_of = np.repeat(np.arange(len(users)), np.diff(indptr))
        for field, column_name in [("item", item_col), ("weight", value_col)][:1 if value_col is None else 2]:
            column = entries.field(field)
            if column.null_count:
                first = int(np.argmax(np.asarray(column.is_null())))
                raise ValueError(f"user '{users[int(user_of[first])]}' has an interaction with a null "
                                 f"'{column_name}'")
        weights = None if value_col is None else np.asarray(entries.field("weight"), dtype=np.float64)
        offsets, data = _arrow_strings(pa.record_batch([entries.field("item")], names=["item"]), "item")
        try:
            (top, scores), cold, unknown = m.recommend_histories(indptr, offsets, data, k, weights)
        except ValueError as e:
            if len(e.args) != 2:
                raise
            raise ValueError(f"user '{users[e.args[1]]}': {e.args[0]}") from None
        yield pa.RecordBatch.from_arrays(
            [users, _ranked(top, scores, item_ids), pa.array(cold), pa.array(unknown.astype(np.int32))],
            names=[user_col, "recommendations", "cold_start", "unknown_items"])


# -- association rules per group --------------------------------------------------


def rules_per_group(df, group_col, basket_col, item_col, min_support=0.01, min_confidence=0.5, max_len=None,
                    max_itemsets=None):
    """Association rules mined separately in each group (store, region,
    day) of ``df`` (one row per (group, basket, item)), by FP-growth as
    ``gramrec rules`` and Spark's FPGrowth mine them, on the executors
    with ``applyInArrow`` (a group whole in one Python worker): a DataFrame with the group column and Spark's
    ``associationRules`` columns ``antecedent``, ``consequent`` (arrays of
    item IDs as text), ``confidence``, ``lift`` and ``support``.
    ``min_support`` is a fraction of each group's baskets (Spark's
    ``minSupport``) or, as an int, a count of them; ``max_len`` bounds the
    itemsets, ``max_itemsets`` their number in a group (as in
    :func:`gramrec.rules`). Items repeated within a basket count once."""
    from pyspark.sql.types import ArrayType, DoubleType, StringType, StructField, StructType

    _require_columns(df, "df", [group_col, basket_col, item_col])
    for column in (basket_col, item_col):
        _id_column(df, "df", column)
    support = _min_support(min_support)
    min_confidence = _confidence(min_confidence)
    max_len = _whole("max_len", max_len, minimum=1)
    max_itemsets = _whole("max_itemsets", max_itemsets, minimum=1)
    schema = StructType([df.schema[group_col]] + [
        StructField(name, ArrayType(StringType(), False), False) for name in ("antecedent", "consequent")
    ] + [StructField(name, DoubleType(), False) for name in ("confidence", "lift", "support")])
    version = _gramrec.__version__

    def mine(table):
        limits = (support, min_confidence, max_len, max_itemsets)
        return _mine_group(table, group_col, basket_col, item_col, limits, version)

    return df.select(group_col, basket_col, item_col).groupBy(group_col).applyInArrow(mine, schema)


def _mine_group(table, group_col, basket_col, item_col, limits, version):
    """applyInArrow's function for :func:`rules_per_group`: one group's rules
    (``limits``: support, confidence, length and itemsets, checked)."""
    import pyarrow as pa

    from . import interactions

    _check_version(version)
    try:
        baskets = interactions(table, basket_col, item_col)
    except ValueError as e:
        raise ValueError(f"group '{table.column(group_col)[0]}': {e}") from None
    found = _gramrec.rules(baskets, *limits)
    strings = pa.list_(pa.field("element", pa.string(), nullable=False))
    return pa.table({
        group_col: table.column(group_col).take(pa.array(np.zeros(len(found), dtype=np.int64))),
        "antecedent": pa.array([r[0] for r in found], type=strings),
        "consequent": pa.array([[r[1]] for r in found], type=strings),
        "confidence": pa.array([r[2] for r in found], type=pa.float64()),
        "lift": pa.array([r[3] for r in found], type=pa.float64()),
        "support": pa.array([r[4] for r in found], type=pa.float64()),
    })


# -- training on the driver, and back to Spark's model ----------------------------


def fit(df, user_col, item_col, value_col=None, show_progress=True, callback=None, **params):
    """A :class:`gramrec.ALS` trained on the interactions of a Spark
    DataFrame (one row per interaction; ``value_col`` the rating or
    strength): the columns are collected to the driver as Arrow (no Python
    object per row) and trained there, on its GPU when it has one, with
    ``params`` as :class:`gramrec.ALS` takes them. The model is the one
    ``gramrec train`` makes from the same rows written to a file; the collect
    and the training times are printed apart. The driver needs memory for
    the three columns (about 20 bytes per interaction plus the IDs' text)."""
    _require_columns(df, "df", [user_col, item_col, value_col])
    for column in (user_col, item_col):
        _id_column(df, "df", column)
    model = ALS(**params)
    started = time.perf_counter()
    table = df.select(*[c for c in (user_col, item_col, value_col) if c is not None]).toArrow()
    _say(f"collected {table.num_rows} interactions from Spark in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    model.fit_frame(table, user_col, item_col, value_col, show_progress=show_progress, callback=callback)
    _say(f"trained in {time.perf_counter() - started:.1f} s")
    return model


def to_spark_model(model, spark, path=None, overwrite=False, user_col="user", item_col="item"):
    """``model`` (a :class:`gramrec.ALS` or a model directory's path) as a
    ``pyspark.ml.recommendation.ALSModel``, for pipelines that expect one,
    written by the exporter ``gramrec export --to spark`` uses into ``path``
    (a folder the driver writes and the cluster reads, its parents made as
    needed; with ``overwrite``, an earlier export there is replaced; None: a
    folder removed when this Python exits, which suits local mode only).
    Spark reads the folder lazily: keep it while the ALSModel is used. The
    ALSModel reads users and items from ``user_col`` and ``item_col``.
    Spark's ALSModel takes integer IDs only: IDs that are not all integers
    are replaced by dense indices, and ``userIds/``/``itemIds/`` in the
    folder (Parquet tables of ``id``, the index, and ``label``, the ID) map
    them back (printed when it happens)."""
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import SparkSession

    if not isinstance(spark, SparkSession):
        raise TypeError(f"spark must be a SparkSession, not {type(spark).__name__}")
    model = _model(model)
    out = os.path.abspath(os.fspath(path)) if path is not None else os.path.join(_staging(), uuid.uuid4().hex)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gramrec-export-") as staging:
        model._require().save(staging, None, [])
        mapped = _gramrec.export_spark(staging, out, bool(overwrite))
    for side, was_mapped in zip(("user", "item"), mapped):
        if was_mapped:
            _say(f"the {side} IDs are not all integers, and Spark's ALSModel takes integers: it has dense indices, "
                 f"and {out}/{side}Ids (a Parquet table of id, the index, and label, the ID) maps them back: join on it")
    return ALSModel.read().session(spark).load(out).setUserCol(user_col).setItemCol(item_col)
