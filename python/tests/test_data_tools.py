"""gramrec.read, evaluate and rules: the CLI's loaders, metrics and
FP-growth from Python, each compared with the CLI on the same files."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gramrec
from conftest import run_cli


@pytest.fixture(scope="module")
def ratings(tmp_path_factory):
    """A ratings file (semicolon-separated, with a header the loader must
    find) and a held-out test file of the same users."""
    rng = np.random.default_rng(4)
    d = tmp_path_factory.mktemp("ratings")
    taste = rng.normal(size=(80, 3))
    kind = rng.normal(size=(60, 3))
    rows = []
    for u in range(80):
        for i in rng.choice(60, size=20, replace=False):
            score = taste[u] @ kind[i]
            rows.append((f"user{u}", f"film{i}", float(np.clip(np.round(3 + score), 1, 5))))
    frame = pd.DataFrame(rows, columns=["userId", "movieId", "rating"])
    train = frame.sample(frac=0.8, random_state=1)
    test = frame.drop(train.index)
    train.to_csv(d / "train.csv", sep=";", index=False)
    test.to_csv(d / "test.csv", sep=";", index=False)
    return d


def test_read_prints_its_guesses_and_fits_the_cli_model(ratings, gramrec_bin, capsys, tmp_path):
    data = gramrec.read(ratings / "train.csv")
    err = capsys.readouterr().err
    assert "train.csv:" in err and "';'" in err, f"the delimiter it found, said: {err}"
    assert len(data) == 1280 and data.user_count == 80 and data.has_values
    assert repr(data) == "Interactions(1280 interactions of 80 users and 60 items, with values)"
    model = gramrec.ALS(factors=6, iterations=5).fit(data, show_progress=False)
    assert model.params["kind"] == "explicit" and model.params["biases"], "ratings: the rating model"
    run_cli(gramrec_bin, "train", "-q", "--input", ratings / "train.csv", "--out", tmp_path / "cli",
            "--factors", "6", "--iterations", "5")
    cli = gramrec.load(tmp_path / "cli")
    assert list(model.user_ids) == list(cli.user_ids)
    np.testing.assert_allclose(model.item_factors, cli.item_factors, rtol=1e-4, atol=1e-5)


def test_read_takes_the_cli_options_and_refuses_bad_input(ratings, tmp_path):
    clicks = gramrec.read(ratings / "train.csv", delimiter=";", user_col="movieId", item_col=0, rating_col=False)
    assert clicks.user_count == 60 and not clicks.has_values, "columns by name and by number, no values"
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\na,x,5\nb,y,lots\n")
    with pytest.raises(ValueError, match=r"bad\.csv:3"):
        gramrec.read(bad)
    assert len(gramrec.read(bad, skip_invalid=True)) == 1
    ambiguous = tmp_path / "ambiguous.tsv"
    ambiguous.write_text("1\t2\t880000000\t7\n1\t3\t880000001\t9\n2\t3\t880000002\t1\n")
    with pytest.raises(ValueError) as refused:
        gramrec.read(ambiguous)
    assert "rating_col" in str(refused.value) and "--" not in str(refused.value), str(refused.value)
    with pytest.raises(ValueError, match="encoding must be"):
        gramrec.read(bad, encoding="klingon")
    with pytest.raises(OSError):
        gramrec.read(tmp_path / "missing.csv")


def test_read_parquet_as_pandas_wrote_it(tmp_path):
    frame = pd.DataFrame({"user": ["a", "a", "b", "c"], "item": ["x", "y", "x", "z"], "plays": [3, 1, 7, 2]})
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "plays.parquet")
    data = gramrec.read(tmp_path / "plays.parquet")
    assert (len(data), data.user_count, data.item_count) == (4, 3, 3)


def test_evaluate_gives_the_clis_figures(ratings, gramrec_bin, tmp_path):
    run_cli(gramrec_bin, "train", "-q", "--input", ratings / "train.csv", "--out", tmp_path / "m",
            "--factors", "6", "--iterations", "5")
    cli = json.loads(run_cli(gramrec_bin, "evaluate", "--model", tmp_path / "m", "--test", ratings / "test.csv",
                             "--k", "5", "--json"))
    ours = gramrec.evaluate(gramrec.load(tmp_path / "m"), gramrec.read(ratings / "test.csv"), k=5)
    assert ours == cli
    assert ours["rmse"] > 0
    with pytest.raises(ValueError, match="k must be at least 1"):
        gramrec.evaluate(gramrec.load(tmp_path / "m"), gramrec.read(ratings / "test.csv"), k=0)


def test_rules_are_the_clis_with_sparks_columns(tmp_path, gramrec_bin):
    rng = np.random.default_rng(2)
    rows = []
    for basket in range(300):
        items = {f"p{i}" for i in rng.choice(12, size=rng.integers(1, 5), replace=False)}
        if "p1" in items:
            items.add("p2")  # p1 => p2 always
        rows += [(f"b{basket}", item) for item in sorted(items)]
    frame = pd.DataFrame(rows, columns=["order", "product"])
    frame.to_csv(tmp_path / "baskets.csv", index=False)
    ours = gramrec.rules(frame, "order", "product", min_support=0.05, min_confidence=0.3)
    assert list(ours.columns) == ["antecedent", "consequent", "confidence", "lift", "support"]
    run_cli(gramrec_bin, "rules", "--input", tmp_path / "baskets.csv", "--basket-col", "order", "--item-col",
            "product", "--min-support", "0.05", "--min-confidence", "0.3", "--out", tmp_path / "rules.jsonl")
    cli = [json.loads(line) for line in (tmp_path / "rules.jsonl").read_text().splitlines()]
    assert len(cli) == len(ours) > 0
    for mine, theirs in zip(ours.to_dict("records"), cli):
        assert mine["antecedent"] == theirs["antecedent"] and mine["consequent"] == theirs["consequent"]
        for figure in ("confidence", "lift", "support"):
            assert mine[figure] == pytest.approx(theirs[figure], rel=1e-12)
    top = ours[ours["antecedent"].map(lambda a: a == ["p1"]) & ours["consequent"].map(lambda c: c == ["p2"])]
    assert top["confidence"].iloc[0] == 1.0
    as_count = gramrec.rules(frame, "order", "product", min_support=15, min_confidence=0.3)
    assert len(as_count) == len(ours), "15 of 300 baskets is a support of 0.05"
    assert len(gramrec.rules(gramrec.interactions(frame, "order", "product"), min_support=15,
                             min_confidence=0.3)) == len(ours), "Interactions need no column names"
    with pytest.raises(ValueError, match="name the basket and item columns"):
        gramrec.rules(frame, min_support=0.05)
    with pytest.raises(ValueError, match="min_confidence"):
        gramrec.rules(frame, "order", "product", min_confidence=2.0)
    # The engine's limit, its advice in keywords (the CLI says --max-itemsets).
    with pytest.raises(ValueError, match="frequent itemsets") as too_many:
        gramrec.rules(frame, "order", "product", min_support=0.05, min_confidence=0.3, max_itemsets=3)
    assert "raise min_support, set max_len, or raise max_itemsets" in str(too_many.value), str(too_many.value)


def test_auto_searches_and_fits_as_train_auto_does(tmp_path, gramrec_bin):
    from conftest import planted

    coo = planted(users=300, items=150, per_user=15).tocoo()
    pd.DataFrame({"user": [f"u{r}" for r in coo.row], "item": [f"i{c}" for c in coo.col],
                  "plays": coo.data.astype(int)}).to_csv(tmp_path / "plays.csv", index=False)
    # On data this small each trial's set-up costs about half a training: 20 pay for a search.
    model = gramrec.auto(gramrec.read(tmp_path / "plays.csv"), budget=20, factors=8, iterations=4,
                         show_progress=False)
    cli = json.loads(run_cli(gramrec_bin, "train", "-q", "--json", "--input", tmp_path / "plays.csv", "--out",
                             tmp_path / "m", "--auto", "--budget", "20x", "--factors", "8", "--iterations", "4"))
    ours = model.auto_report
    assert ours["chosen"] == cli["auto"]["chosen"] and len(ours["trials"]) == len(cli["auto"]["trials"]) > 3
    assert [t["score"] for t in ours["trials"]] == [t["score"] for t in cli["auto"]["trials"]]
    chosen = ours["trials"][ours["chosen"]]
    assert (model.factors, model.iterations) == (chosen["params"]["factors"], chosen["iterations"])
    # The winner fitted on all the data is the CLI's model.
    saved = gramrec.load(tmp_path / "m")
    assert saved.params == model.params
    order = {u: r for r, u in enumerate(model.user_ids)}
    np.testing.assert_allclose(model.user_factors[[order[u] for u in saved.user_ids]], saved.user_factors,
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="RMSE does not apply to implicit models"):
        gramrec.auto(gramrec.read(tmp_path / "plays.csv"), metric="rmse", show_progress=False)
    with pytest.raises(ValueError, match="budget: 'lots' is not a budget such as 10x, 90s or 15m"):
        gramrec.auto(gramrec.read(tmp_path / "plays.csv"), budget="lots", show_progress=False)
