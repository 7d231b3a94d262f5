"""Models crossing between Python and the CLI, data frames with real IDs,
and the behaviour a Python user expects of long work: the GIL released,
Ctrl-C honoured, progress reported."""

import _thread
import json
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import gramrec
from conftest import planted, run_cli


def cli_recommend(binary, model_dir, *args):
    return json.loads(run_cli(binary, "recommend", "--model", model_dir, "--json", *args))["items"]


def interactions_csv(matrix, path, names=True):
    """The matrix as a CSV with string IDs (u<row>, i<column>) and counts."""
    coo = matrix.tocoo()
    frame = pd.DataFrame({
        "user": [f"u{r}" if names else str(r) for r in coo.row],
        "item": [f"i{c}" if names else str(c) for c in coo.col],
        "plays": coo.data.astype(np.int64),
    })
    frame.to_csv(path, index=False)
    return frame


def test_a_model_fitted_here_recommends_the_same_in_the_cli(plays, tmp_path, gramrec_bin):
    model = gramrec.ALS(factors=12, iterations=5, random_state=3).fit(plays, show_progress=False)
    model.save(tmp_path / "m")
    for user in (0, 17, 123):
        ids, scores = model.recommend(user, plays[user], N=10)
        cli = cli_recommend(gramrec_bin, tmp_path / "m", "--user", str(user), "--k", "10")
        assert [int(r["item"]) for r in cli] == ids.tolist()
        np.testing.assert_allclose([r["score"] for r in cli], scores, rtol=1e-5, atol=1e-5)


def test_a_cli_model_loads_with_its_ids(plays, tmp_path, gramrec_bin):
    interactions_csv(plays, tmp_path / "plays.csv")
    run_cli(gramrec_bin, "train", "-q", "--input", tmp_path / "plays.csv", "--out", tmp_path / "m",
            "--factors", "8", "--iterations", "4")
    model = gramrec.load(tmp_path / "m")
    assert model.kind == "implicit" and model.factors == 8
    row = list(model.user_ids).index("u5")
    cli = cli_recommend(gramrec_bin, tmp_path / "m", "--user", "u5", "--k", "8")
    ours = model.recommend_for("u5", N=8)
    assert ours["item"].tolist() == [r["item"] for r in cli]
    np.testing.assert_allclose(ours["score"], [r["score"] for r in cli], rtol=1e-5)
    # The positional API over the model's own rows gives the same list.
    ids, _ = model.recommend(row, None, N=8, filter_already_liked_items=False)
    assert ours["item"].iloc[0] in set(model.item_ids[ids])
    history = [("i3", 2.0), ("i7", 1.0), ("nope", 1.0)]
    folded = model.recommend_history(history, N=5)
    cli = cli_recommend(gramrec_bin, tmp_path / "m", "--history", "i3:2,i7:1,nope:1", "--k", "5")
    assert folded["item"].tolist() == [r["item"] for r in cli]
    np.testing.assert_allclose(folded["score"], [r["score"] for r in cli], rtol=1e-5)
    assert folded.attrs["unknown"] == ["nope"] and not folded.attrs["cold_start"]
    assert model.recommend_history(["i3", "i7"], N=5)["item"].tolist() == \
        model.recommend_history([("i3", 1), ("i7", 1)], N=5)["item"].tolist(), "a bare ID weighs 1"
    with pytest.raises(ValueError, match="history entry 1: the weight of 'i7' is not a finite number"):
        model.recommend_history([("i3", 1.0), ("i7", float("nan"))])
    with pytest.raises(ValueError, match="unknown user 'nobody'"):
        model.recommend_for("nobody")
    # Saved again from Python, the CLI reads the same model.
    model.save(tmp_path / "again")
    assert cli_recommend(gramrec_bin, tmp_path / "again", "--user", "u5", "--k", "8") == \
        cli_recommend(gramrec_bin, tmp_path / "m", "--user", "u5", "--k", "8")


@pytest.mark.parametrize("kind", ["pandas", "pyarrow", "polars"])
def test_a_frame_with_string_ids_fits_the_cli_model(plays, tmp_path, gramrec_bin, kind):
    frame = interactions_csv(plays, tmp_path / "plays.csv")
    if kind == "pyarrow":
        frame = pa.Table.from_pandas(frame)
    elif kind == "polars":
        import polars as pl

        frame = pl.from_pandas(frame)
    model = gramrec.ALS(factors=8, iterations=4).fit_frame(frame, "user", "item", "plays", show_progress=False)
    run_cli(gramrec_bin, "train", "-q", "--input", tmp_path / "plays.csv", "--out", tmp_path / "cli",
            "--factors", "8", "--iterations", "4")
    cli = gramrec.load(tmp_path / "cli")
    assert list(model.user_ids) == list(cli.user_ids) and list(model.item_ids) == list(cli.item_ids)
    np.testing.assert_allclose(model.item_factors, cli.item_factors, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.user_factors, cli.user_factors, rtol=1e-4, atol=1e-5)


def test_an_exported_model_recommends_the_same_in_implicit(plays, tmp_path, gramrec_bin):
    """save → `gramrec export --to implicit` → implicit's own load and
    recommend: the same lists (an implicit model's scores are its factors'
    dot products on both sides)."""
    from implicit.cpu.als import AlternatingLeastSquares

    model = gramrec.ALS(factors=10, iterations=4, kind="implicit").fit(plays, show_progress=False)
    model.save(tmp_path / "m")
    run_cli(gramrec_bin, "export", "--to", "implicit", "--model", tmp_path / "m", "--out", tmp_path / "als.npz")
    peer = AlternatingLeastSquares.load(str(tmp_path / "als.npz"))
    item_ids = (tmp_path / "als.item_ids.txt").read_text().split()
    user_ids = (tmp_path / "als.user_ids.txt").read_text().split()
    for user in (3, 50, 222):
        row = user_ids.index(str(user))
        ours, our_scores = model.recommend(user, plays[user], N=10, filter_already_liked_items=False)
        theirs, their_scores = peer.recommend(row, None, N=10, filter_already_liked_items=False)
        assert [int(item_ids[i]) for i in theirs] == ours.tolist()
        np.testing.assert_allclose(their_scores, our_scores, rtol=1e-4, atol=1e-5)


def test_frames_with_bad_columns_are_refused(plays):
    frame = pd.DataFrame({"user": ["a", None], "item": ["x", "y"], "r": [1.0, 2.0]})
    with pytest.raises(ValueError, match="column 'user' has a missing value at row 1"):
        gramrec.ALS().fit_frame(frame, "user", "item", "r")
    with pytest.raises(ValueError, match="no column 'who'"):
        gramrec.ALS().fit_frame(frame, "who", "item")
    with pytest.raises(ValueError, match="holds floats"):
        gramrec.ALS().fit_frame(frame, "r", "item")
    with pytest.raises(ValueError, match="the value inf"):
        gramrec.ALS().fit_frame(pd.DataFrame({"u": ["a"], "i": ["x"], "r": [np.inf]}), "u", "i", "r")


def test_fit_releases_the_gil_and_reports_progress(plays):
    ticks, done = [0], threading.Event()

    def count():
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    seen = []
    thread = threading.Thread(target=count)
    thread.start()
    try:
        big = planted(users=3000, items=1500, per_user=40, seed=5)
        gramrec.ALS(factors=48, iterations=6, num_threads=1).fit(
            big, show_progress=False, callback=lambda it, seconds, loss: seen.append((it, seconds, loss)))
    finally:
        done.set()
        thread.join()
    assert [s[0] for s in seen] == list(range(1, 7))
    assert all(np.isfinite(loss) and seconds >= 0 for _, seconds, loss in seen)
    assert ticks[0] > 20, f"another thread ran only {ticks[0]} times during fit"


def test_keyboard_interrupt_stops_training_between_iterations():
    big = planted(users=3000, items=1500, per_user=40, seed=6)
    seen = []
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        gramrec.ALS(factors=48, iterations=10000, num_threads=1).fit(
            big, show_progress=False, callback=lambda it, *_: seen.append(it))
    timer.cancel()
    assert time.perf_counter() - started < 30 and len(seen) < 10000


def test_a_callback_that_raises_stops_the_fit(plays):
    def stop(iteration, *_):
        if iteration == 2:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        gramrec.ALS(iterations=5).fit(plays, show_progress=False, callback=stop)


def test_choices_read_from_the_data_are_printed(plays, capsys):
    """Every default read from the data is printed with its reason and the
    keyword that overrides it, in a Python user's terms."""
    gramrec.ALS(factors=4, iterations=1).fit(plays, show_progress=False)
    err = capsys.readouterr().err
    assert "gramrec: kind = implicit: a SciPy user_items matrix, as implicit's fit takes it" in err, err
    assert "(kind='explicit' to treat them as ratings)" in err, err
    assert "gramrec: confidence = " in err, err
    frame = pd.DataFrame({"user": ["a", "a", "b", "c"], "item": ["x", "y", "x", "y"], "r": [1.0, 1.0, 1.0, 1.0]})
    gramrec.ALS(factors=2, iterations=1).fit_frame(frame, "user", "item", "r", show_progress=False)
    err = capsys.readouterr().err
    assert "gramrec: kind = implicit: every value is 1: presence, not ratings" in err, err
    frame["r"] = [4.0, 2.0, 5.0, 3.0]
    gramrec.ALS(factors=2, iterations=1).fit_frame(frame, "user", "item", "r", show_progress=False)
    err = capsys.readouterr().err
    assert "gramrec: kind = explicit: the values are ratings (kind='implicit' for feedback strengths)" in err, err
    assert "--" not in err, f"no CLI flags in a Python user's messages: {err}"


def test_the_default_regularization_and_alpha_are_checked_on_validation(capsys):
    """Reading lists of 8 items a user: the default lambda of 30 shrinks such
    short rows to a popularity ranking, so fit replaces it and says why; it
    checks alpha after it; values passed are used unchecked."""
    import scipy.sparse as sp

    rng = np.random.default_rng(11)
    rows, cols = [], []
    for user in range(1500):
        topic = rng.integers(30)
        for item in rng.choice(40, size=8, replace=False):
            rows.append(user)
            cols.append(topic * 40 + item)
    lists = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(1500, 1200))
    import re

    model = gramrec.ALS(factors=16, random_state=5).fit(lists, show_progress=False)
    err = capsys.readouterr().err
    said = re.search(r"gramrec: regularization = ([0-9.]+): λ ([0-9.]+) led the line from 30 by ", err)
    assert said and said[1] == said[2] and float(said[1]) < 30, err
    assert "trained from scratch scored" in err and "(regularization= to skip the check)" in err, err
    assert err.index("gramrec: checking λ 30 and α 1 on a validation split") < err.index("regularization =") \
        < err.index("gramrec: the check took "), err
    alpha = re.search(r"gramrec: alpha = ([0-9.]+): .*\(alpha= to skip the check\)", err)
    assert alpha, err
    assert model.regularization is None and model.alpha is None, "the keywords stay as given: another fit checks again"
    assert model.params["regularization"] == float(said[1])
    assert model.params["alpha"] == float(alpha[1])
    given = gramrec.ALS(factors=16, regularization=30, alpha=1, random_state=5).fit(lists, show_progress=False)
    err = capsys.readouterr().err
    assert "regularization =" not in err and "alpha =" not in err, err
    # The checked model recommends from the user's topic.
    user, topic = 0, cols[0] // 40
    ids, _ = model.recommend(user, lists[user], N=5)
    assert all(i // 40 == topic for i in ids), ids


def test_a_model_pickles_with_its_positions_and_ids(plays):
    import copy
    import pickle

    model = gramrec.ALS(factors=6, iterations=3, random_state=4).fit(plays, show_progress=False)
    again = pickle.loads(pickle.dumps(model))
    assert (again.factors, again.iterations, again.random_state) == (6, 3, 4)
    np.testing.assert_array_equal(again.user_factors, model.user_factors)
    np.testing.assert_array_equal(again.item_factors, model.item_factors)
    ids, scores = model.recommend(np.arange(5), plays[:5], N=7)
    ids_again, scores_again = again.recommend(np.arange(5), plays[:5], N=7)
    np.testing.assert_array_equal(ids_again, ids)
    np.testing.assert_array_equal(scores_again, scores)
    coo = plays.tocoo()
    frame = pd.DataFrame({"user": [f"u{r}" for r in coo.row], "item": [f"i{c}" for c in coo.col],
                          "plays": coo.data})
    original = gramrec.ALS(factors=4, iterations=2).fit_frame(frame, "user", "item", "plays", show_progress=False)
    named = copy.deepcopy(original)
    assert named.recommend_for("u3", N=3)["item"].tolist() == original.recommend_for("u3", N=3)["item"].tolist()
    assert named.user_ids.tolist() == original.user_ids.tolist()
    unfitted = pickle.loads(pickle.dumps(gramrec.ALS(factors=9)))
    assert unfitted.factors == 9
    with pytest.raises(ValueError, match="not fitted"):
        unfitted.user_factors
