"""partial_fit_users and partial_fit_items, as implicit defines them: rows
solved anew exactly as training and fold-in solve them, new rows added to a
matrix model, and the changed model saved for the CLI."""

import json

import numpy as np
import pytest
import scipy.sparse as sp

import gramrec
from conftest import planted, run_cli


def ratings(matrix):
    """The matrix's pattern with ratings 1-5 in place of counts."""
    out = matrix.copy()
    out.data = np.clip(np.round(out.data + 1), 1, 5).astype(np.float32)
    return out


@pytest.mark.parametrize("kind", ["implicit", "explicit"])
def test_an_item_solved_again_from_its_users_is_its_trained_row(plays, kind):
    """Training ends with an item half-iteration solved exactly (Cholesky)
    against the final users: solving an item again from its users gives
    the trained row back, bias included."""
    data = plays if kind == "implicit" else ratings(plays)
    model = gramrec.ALS(factors=8, iterations=4, random_state=1, use_cg=False, kind=kind).fit(
        data, show_progress=False)
    items = [3, 17, 42]
    before = model.item_factors[items].copy()
    biases = None if model.item_biases is None else model.item_biases[items].copy()
    users = model.user_factors.copy()
    model.partial_fit_items(items, data.T.tocsr()[items])
    np.testing.assert_allclose(model.item_factors[items], before, rtol=1e-6, atol=1e-7)
    if biases is not None:
        np.testing.assert_allclose(model.item_biases[items], biases, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(model.user_factors, users)


def test_users_solved_again_and_added_are_saved_for_the_cli(plays, tmp_path, gramrec_bin):
    model = gramrec.ALS(factors=8, iterations=4, random_state=2).fit(plays, show_progress=False)
    n_users, n_items = plays.shape
    rng = np.random.default_rng(0)
    fresh = sp.csr_matrix((np.ones(6, dtype=np.float32) * 3, (np.zeros(6, dtype=int), rng.choice(n_items, 6,
                                                                                                    replace=False))),
                          shape=(1, n_items))
    expected = model.recalculate_user(n_users + 1, fresh)
    changed = model.recalculate_user(4, fresh)
    model.partial_fit_users([4, n_users + 1], sp.vstack([fresh, fresh]).tocsr())
    assert model.user_factors.shape == (n_users + 2, 8), "a position past the end adds users"
    np.testing.assert_allclose(model.user_factors[n_users + 1], expected, rtol=1e-6)
    np.testing.assert_allclose(model.user_factors[4], changed, rtol=1e-6)
    assert not model.user_factors[n_users].any(), "the skipped position has no factors"
    # The new user's items are their recorded training items: the CLI leaves
    # them out, as recommend does when given the row.
    model.save(tmp_path / "m")
    ids, scores = model.recommend(n_users + 1, fresh, N=5)
    assert not set(ids) & set(fresh.indices)
    cli = json.loads(run_cli(gramrec_bin, "recommend", "--model", tmp_path / "m", "--user", str(n_users + 1),
                             "--k", "5", "--json"))["items"]
    assert [int(r["item"]) for r in cli] == ids.tolist()
    np.testing.assert_allclose([r["score"] for r in cli], scores, rtol=1e-5, atol=1e-6)
    again = gramrec.load(tmp_path / "m")
    assert again.user_factors.shape == (n_users + 2, 8)


def test_items_are_added_and_ranked(plays):
    model = gramrec.ALS(factors=8, iterations=4, random_state=2).fit(plays, show_progress=False)
    n_items = plays.shape[1]
    # A new item liked by the users of item 7: it lands beside item 7.
    model.partial_fit_items([n_items], plays.T.tocsr()[7])
    assert model.item_factors.shape == (n_items + 1, 8)
    ids, _ = model.similar_items(n_items, N=3)
    assert ids[0] == n_items and 7 in ids


def test_models_with_ids_change_rows_but_refuse_new_ones(plays, tmp_path):
    import pandas as pd

    coo = plays.tocoo()
    frame = pd.DataFrame({"user": [f"u{r}" for r in coo.row], "item": [f"i{c}" for c in coo.col], "plays": coo.data})
    model = gramrec.ALS(factors=6, iterations=3).fit_frame(frame, "user", "item", "plays", show_progress=False)
    row = list(model.user_ids).index("u9")
    history = sp.csr_matrix(([2.0, 1.0], ([0, 0], [0, 1])), shape=(1, len(model.item_ids)))
    model.partial_fit_users([row], history)
    ranked = model.recommend_for("u9", N=50)
    assert not {model.item_ids[0], model.item_ids[1]} & set(ranked["item"]), "its new items are left out"
    with pytest.raises(ValueError, match="names its users by ID .* cannot add users without IDs"):
        model.partial_fit_users([len(model.user_ids)], history)
    with pytest.raises(ValueError, match="user_items must contain 1 row for every user in userids"):
        model.partial_fit_users([1, 2], history)
    bad = history.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="not a finite number"):
        model.partial_fit_users([row], bad)


def test_frequency_scaling_counts_the_whole_other_side(plays, tmp_path, gramrec_bin):
    """λ scaled by frequency counts every row of the other side (α₀ × its
    rows): an item solved from its users alone is its trained row still."""
    import pandas as pd

    coo = plays.tocoo()
    pd.DataFrame({"user": coo.row, "item": coo.col, "plays": coo.data}).to_csv(tmp_path / "plays.csv", index=False)
    run_cli(gramrec_bin, "train", "-q", "--input", tmp_path / "plays.csv", "--out", tmp_path / "m", "--factors", "8",
            "--iterations", "4", "--solver", "cholesky", "--reg-scaling", "frequency", "--reg-exponent", "0.5",
            "--reg", "0.5")
    model = gramrec.load(tmp_path / "m")
    user_row = {int(u): r for r, u in enumerate(model.user_ids)}
    item_row = {int(i): r for r, i in enumerate(model.item_ids)}
    by_rows = sp.csr_matrix((coo.data, ([item_row[i] for i in coo.col], [user_row[u] for u in coo.row])),
                            shape=(len(item_row), len(user_row)))
    items = [item_row[i] for i in (3, 17, 42)]
    before = model.item_factors[items].copy()
    model.partial_fit_items(items, by_rows[items])
    np.testing.assert_allclose(model.item_factors[items], before, rtol=1e-5, atol=1e-6)
