"""ALS(method="bayes"): Bayesian PMF from Python is the CLI's `train
--method bayes`, folds visitors in with the learned prior as the CLI does,
and refuses the settings that do not apply to it."""

import json

import numpy as np
import pandas as pd
import pytest

import gramrec
from conftest import run_cli


@pytest.fixture(scope="module")
def ratings(tmp_path_factory):
    """Ratings 1..5 from a planted rank-3 taste structure plus noise, with
    string IDs, as a frame and as the CSV the CLI reads."""
    rng = np.random.default_rng(5)
    users, items, per_user = 200, 120, 25
    x, y = rng.normal(size=(users, 3)), rng.normal(size=(items, 3))
    rows = []
    for u in range(users):
        for i in rng.choice(items, size=per_user, replace=False):
            r = np.clip(np.rint(3 + 0.7 * x[u] @ y[i] + rng.normal(scale=0.5)), 1, 5)
            rows.append((f"u{u}", f"i{i}", float(r)))
    frame = pd.DataFrame(rows, columns=["user", "item", "rating"])
    path = tmp_path_factory.mktemp("ratings") / "ratings.csv"
    frame.to_csv(path, index=False)
    return frame, path


SETTINGS = dict(factors=6, samples=10, burn_in=5, random_state=3)
FLAGS = ["--method", "bayes", "--factors", "6", "--samples", "10", "--burn-in", "5", "--seed", "3"]


def test_a_bayesian_model_fitted_here_is_the_clis(ratings, tmp_path, gramrec_bin):
    frame, path = ratings
    model = gramrec.ALS(method="bayes", **SETTINGS).fit_frame(frame, "user", "item", "rating", show_progress=False)
    params = model.params
    assert params["method"] == "bayes" and params["kind"] == "explicit" and params["noise_precision"] > 0
    assert params["regularization"] is None and (params["samples"], params["burn_in"]) == (10, 5)
    run_cli(gramrec_bin, "train", "-q", "--input", path, "--out", tmp_path / "cli", *FLAGS)
    cli = gramrec.load(tmp_path / "cli")
    assert cli.method == "bayes" and cli.regularization is None, "no λ to refit with"
    assert (cli.samples, cli.burn_in) == (10, 5), "the chain's length to refit with"
    np.testing.assert_allclose(model.item_factors, cli.item_factors, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.user_factors, cli.user_factors, rtol=1e-4, atol=1e-5)
    # A visitor folded in with the learned prior, here and in the CLI.
    folded = model.recommend_history([("i3", 5.0), ("i7", 1.0), ("i11", 4.0)], N=5)
    out = run_cli(gramrec_bin, "recommend", "--json", "--model", tmp_path / "cli", "--history", "i3:5,i7:1,i11:4",
                  "--k", "5")
    cli_items = json.loads(out)["items"]
    assert folded["item"].tolist() == [r["item"] for r in cli_items]
    np.testing.assert_allclose(folded["score"], [r["score"] for r in cli_items], rtol=1e-4)


def test_settings_that_do_not_apply_to_bayes_are_refused(ratings):
    frame, _ = ratings
    fit = lambda **kw: gramrec.ALS(**kw).fit_frame(frame, "user", "item", "rating", show_progress=False)
    with pytest.raises(ValueError, match="iterations does not apply to method='bayes'"):
        fit(method="bayes", iterations=5)
    with pytest.raises(ValueError, match="regularization does not apply to method='bayes'"):
        fit(method="bayes", regularization=0.1)
    with pytest.raises(ValueError, match="use_cg does not apply to method='bayes'"):
        fit(method="bayes", use_cg=False)
    with pytest.raises(ValueError, match="samples applies to method='bayes' only"):
        fit(samples=5)
    with pytest.raises(ValueError, match="method.*bayes models explicit ratings; use method='als'"):
        fit(method="bayes", kind="implicit", samples=2, burn_in=1)
    with pytest.raises(ValueError, match="method must be 'als' or 'bayes', not 'gibbs'"):
        fit(method="gibbs")
    data = gramrec.interactions(frame, "user", "item", "rating")
    with pytest.raises(ValueError, match="auto tries method='bayes' itself"):
        gramrec.auto(data, method="bayes")


def test_auto_tries_bayes_on_ratings_when_the_budget_pays_for_it(ratings, capsys):
    frame, _ = ratings
    data = gramrec.interactions(frame, "user", "item", "rating")
    gramrec.auto(data, budget=3, show_progress=False, factors=8)
    assert "auto: not tried: Bayesian PMF: 8 factors, 100 samples after a burn-in of 20" in capsys.readouterr().err
    model = gramrec.auto(data, budget=300, show_progress=False, factors=8)
    report = model.auto_report
    assert report["trials"][1]["method"] == "bayes" and report["trials"][1]["iterations"] == 120
    chosen = report["trials"][report["chosen"]]
    assert model.method == chosen["method"] == model.params["method"]
    if model.method == "bayes":
        assert model.regularization is None and model.iterations is None
