"""gramrec: alternating-least-squares recommenders, trained on any GPU or the
CPU, with the API of benfred/implicit.

    >>> import gramrec
    >>> model = gramrec.ALS(factors=64, random_state=42)
    >>> model.fit(user_items)                      # a SciPy CSR, users x items
    >>> ids, scores = model.recommend(0, user_items[0], N=10)
    >>> model.save("model")                        # gramrec recommend --model model ...

A model saved here is a gramrec model directory: ``gramrec recommend``,
``gramrec serve``, the browser module and ``gramrec export`` read it, and
:func:`load` reads any of theirs. The engine is gramrec's Rust library; this
module only translates (docs/PYTHON.md).
"""

from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np
import scipy.sparse

from . import _gramrec

__version__ = _gramrec.__version__
__all__ = ["ALS", "Interactions", "auto", "evaluate", "interactions", "load", "read", "rules", "__version__"]

Interactions = _gramrec.Interactions

# The Vulkan drivers complain on stderr when XDG_RUNTIME_DIR is unset (as in
# containers and CI); the gramrec binary sets it the same way.
if sys.platform.startswith("linux") and not os.environ.get("XDG_RUNTIME_DIR"):
    import tempfile

    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="gramrec-xdg-")

_EMPTY = np.zeros(0, dtype=np.int64)

# What building the training matrices did to the interactions, as printed.
_BUILT_COUNTS = [
    ("duplicates_merged", "repeated (user, item) pairs merged"),
    ("zeros_as_interactions", "values of 0 kept as interactions"),
    ("nonpositive_dropped", "negative values dropped: an implicit model has no use for them"),
]

# The note a model fitted from a matrix is saved with: its shape, so that
# load() indexes it by the matrix's rows and columns again.
_POSITIONS_NOTE = "python.matrix"


def _say(text):
    print(f"gramrec: {text}", file=sys.stderr, flush=True)


def _csr(matrix, name):
    """``matrix`` as a CSR of float32 values (a copy only when it is another
    type or dtype), refusing what is not a sparse matrix."""
    if not scipy.sparse.issparse(matrix):
        raise ValueError(f"{name} must be a SciPy sparse matrix (CSR, users x items), not {type(matrix).__name__}")
    if matrix.format != "csr":
        raise ValueError(f"{name} must be a CSR matrix (users x items), not {matrix.format.upper()}: call .tocsr()")
    if matrix.dtype != np.float32:
        matrix = matrix.astype(np.float32)
    return matrix


@dataclasses.dataclass(eq=False)
class ALS:
    """Alternating least squares on gramrec's engine, with implicit's API.

    Parameters (``None``: gramrec's default, the one ``gramrec train`` uses)
    ----------
    factors : int, optional
        Latent factors per user and item (default 64). Left as ``None`` on
        an implicit model, ``fit`` checks 128 after lambda and alpha, the
        same way, and keeps 64 unless 128 wins clearly (a larger model
        costs about twice the time and memory).
    regularization : float, optional
        Regularisation strength lambda (default: the kind's: 30 for implicit
        models, the same for every row as implicit's; 0.1 times each row's
        count for explicit ones, as Spark's ALS-WR). Left as ``None`` on an
        implicit model, ``fit`` first checks 30 on a validation split it
        holds out, as ``gramrec train`` does: the defaults trained, then
        lambda x3, x10, x1/3, x0.1, each a few iterations on from the one
        before; the best replaces 30 only by more than 3 standard errors,
        and again when trained from scratch (on sparse data 30 leaves a
        model that ranks like popularity). It prints what it found;
        ``params["regularization"]`` holds the value trained with (the
        keyword stays ``None``, so another fit checks again). Pass a value
        to skip the check.
    alpha : float, optional
        Confidence slope of implicit models: an interaction of strength r
        weighs 1 + alpha*r (linear) or 1 + alpha*ln(1 + r) (log) (default
        1). Left as ``None``, ``fit`` checks it after lambda, the same way
        (alpha x3, x10, x1/3; heavy-tailed counts and short lists want
        more), and ``params["alpha"]`` holds the value trained with.
    iterations : int, optional
        Full iterations, a user half and an item half each (default 15).
    random_state : int, optional
        Seed of the initial factors (default 42): the same seed and data give
        the same model on any thread count.
    num_threads : int
        CPU threads; 0 uses every core.
    use_cg : bool
        Solve each row with a few conjugate-gradient steps (``cg_steps``,
        default 3) rather than exactly (Cholesky).
    device : {"auto", "gpu", "cpu"}
        Where to train: "auto" uses a real GPU when there is one (Vulkan,
        Metal or DX12, any vendor) and the CPU otherwise; "gpu" insists.
    kind : {None, "implicit", "explicit"}
        Implicit feedback (clicks, plays, purchases) or explicit ratings.
        None: implicit for a SciPy matrix (as implicit's ``fit`` takes it),
        read from the data for frames and files as ``gramrec train`` reads
        it; either way the choice is printed with its reason.
    confidence : {None, "linear", "log"}
        An implicit model's confidence curve; None reads it from the values.
    cg_steps : int
        Conjugate-gradient steps per row and half-iteration.
    method : {"als", "bayes"}
        "bayes": Bayesian probabilistic matrix factorisation with biases,
        fitted by Gibbs sampling (explicit ratings only; ``regularization``
        and ``iterations`` do not apply: it learns each side's prior and the
        noise from the data). The model is the posterior mean of the
        factors, and ``recommend`` folds new users in with the learned
        prior. Lower RMSE than ALS on MovieLens 100K with nothing tuned
        (BENCHMARKS.md); on the CPU or the GPU (``device``).
    samples : int, optional
        ``method="bayes"``: sweeps averaged into the model (default 100).
    burn_in : int, optional
        ``method="bayes"``: sweeps drawn first and not kept (default 20).

    After :meth:`fit`, ``user_factors`` and ``item_factors`` are NumPy arrays
    by row and column of the matrix fitted (zeros for a row or column with no
    interactions). A model from :func:`load` is indexed by its own rows:
    ``user_ids`` and ``item_ids`` name them.
    """

    factors: int | None = None
    regularization: float | None = None
    alpha: float | None = None
    iterations: int | None = None
    random_state: int | None = None
    num_threads: int = 0
    use_cg: bool = True
    device: str = "auto"
    kind: str | None = None
    confidence: str | None = None
    cg_steps: int = 3
    method: str = "als"
    samples: int | None = None
    burn_in: int | None = None
    #: The search's account when the model came from :func:`auto`, else None.
    auto_report: dict | None = dataclasses.field(default=None, init=False, repr=False)
    _model: object = dataclasses.field(default=None, init=False, repr=False)
    _shape: tuple | None = dataclasses.field(default=None, init=False, repr=False)
    _sides: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    # -- pickling -------------------------------------------------------------

    def __getstate__(self):
        """The settings, and a fitted model's two factor files as bytes (f32
        for a model just fitted): what ``pickle``, ``copy.deepcopy``,
        joblib and Spark's broadcast keep of a model."""
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        state["_shape"] = self._shape
        state["_files"] = None if self._model is None else self._require().to_bytes()
        return state

    def __setstate__(self, state):
        state = dict(state)
        files, shape = state.pop("_files"), state.pop("_shape")
        self.__init__()
        self.__dict__.update(state)
        if files is not None:
            self._model = _gramrec.from_bytes(*files)
            if shape is None:
                self._by_model_rows()
            else:
                self._by_positions(shape)

    # -- training ---------------------------------------------------------

    def fit(self, user_items, show_progress=True, callback=None):
        """Fits the model to ``user_items``: a SciPy CSR matrix of users x
        items whose values are interaction strengths (counts, plays) or
        ratings, as implicit 0.7 takes it; or :class:`Interactions` with
        real IDs (from :func:`read` or :func:`interactions`), which index
        the model by its own rows (as :meth:`fit_frame`).

        Prints the choices read from the data (kind, confidence) and where
        it trains. ``show_progress`` shows a tqdm bar when tqdm is installed;
        ``callback(iteration, seconds, loss)`` is called after each
        iteration. Training releases the GIL; Ctrl-C (KeyboardInterrupt)
        stops it between iterations. A matrix's coordinates are made once
        (SciPy's ``tocoo``) and its values copied when they are not float32; the
        engine builds its training matrices from them, as the CLI does from
        a file. :class:`Interactions` are copied for the fit and kept.
        """
        if isinstance(user_items, Interactions):
            self._fit(lambda on_event: _gramrec.fit(user_items, self._settings(), on_event), show_progress, callback)
            self._by_model_rows()
            return self
        user_items = _csr(user_items, "user_items")
        coo = user_items.tocoo()
        rows, cols = _index_array(coo.row), _index_array(coo.col)
        self._fit(lambda on_event: _gramrec.fit_columns(
            rows, cols, np.asarray(coo.data, dtype=np.float32), self._settings(), on_event), show_progress, callback)
        self._by_positions(user_items.shape)
        return self

    def fit_frame(self, frame, user_col, item_col, value_col=None, show_progress=True, callback=None):
        """Fits the model to a table of interactions with real IDs: a pandas
        or polars DataFrame or a pyarrow Table, one row per interaction,
        ``value_col`` (optional) the rating or strength. IDs are kept as
        text (integers as their digits), as ``gramrec train`` reads them
        from a file, so the model is the one the CLI trains on the same
        rows. The ID columns go to the engine in Arrow's layout (pyarrow is
        needed), without a Python object per row.

        Afterwards the model is indexed by its own rows: ``user_ids`` and
        ``item_ids`` name them, and :meth:`recommend_for` takes IDs.
        """
        return self.fit(interactions(frame, user_col, item_col, value_col), show_progress, callback)

    def _by_model_rows(self):
        self._shape = None
        n_users, n_items = len(self._model.user_ids()), len(self._model.item_ids())
        self._user_row = self._user_pos = np.arange(n_users, dtype=np.int64)
        self._item_row = np.arange(n_items, dtype=np.int64)
        self._item_pos = np.arange(n_items, dtype=np.int64)
        self._reset_cache()

    def _settings(self):
        return {
            "kind": self.kind, "confidence": self.confidence, "factors": _whole("factors", self.factors),
            "regularization": _number("regularization", self.regularization),
            "alpha": _number("alpha", self.alpha), "iterations": _whole("iterations", self.iterations),
            "random_state": _whole("random_state", self.random_state),
            "num_threads": _whole("num_threads", self.num_threads), "use_cg": bool(self.use_cg),
            "cg_steps": _whole("cg_steps", self.cg_steps), "device": self.device, "method": self.method,
            "samples": _whole("samples", self.samples), "burn_in": _whole("burn_in", self.burn_in),
        }

    def _fit(self, train, show_progress, callback, searched=None):
        """Runs ``train(on_event)`` (a native fit), printing its events and
        driving the progress bar and ``callback``; a search's settings are
        collected in ``searched``."""
        bar = None
        self.auto_report = None

        def on_event(name, event):
            nonlocal bar
            if name == "defaults":
                for parameter, (value, reason) in event.items():
                    _say(f"{parameter} = {value}: {reason}")
            elif name == "built":
                merged = [f"{event[key]} {what}" for key, what in _BUILT_COUNTS if event[key]]
                _say(f"{event['users']} users x {event['items']} items, {event['interactions']} interactions"
                     + (f" ({', '.join(merged)})" if merged else ""))
                if show_progress:
                    bar = _progress_bar(event["iterations"])
            elif name in ("device", "check"):
                _say(event["text"])
            elif name == "auto":
                _say_search(event, searched)
            elif name == "iteration":
                if bar is not None:
                    bar.update(1)
                if callback is not None:
                    callback(event["iteration"], event["seconds"], event["loss"])

        try:
            self._model = train(on_event)
        finally:
            if bar is not None:
                bar.close()
        self._reset_cache()

    def _auto(self, data, budget, metric, show_progress, callback):
        """:func:`auto`'s search and fit, on this model's settings."""
        import json

        if not isinstance(data, Interactions):
            raise TypeError("auto takes gramrec.Interactions (from gramrec.read or gramrec.interactions), "
                            f"not {type(data).__name__}")
        if isinstance(budget, bool) or not isinstance(budget, (str, int, float, type(None))):
            raise TypeError(f"budget must be a count of trainings or a text such as '10x' or '90s', not {budget!r}")
        if isinstance(budget, (int, float)):
            budget = f"{budget}x"
        found, searched = {}, []

        def train(on_event):
            model, report = _gramrec.auto(data, self._settings(), budget, metric, on_event)
            found["report"] = json.loads(report)
            return model

        self._fit(train, show_progress, callback, searched)
        report = self.auto_report = found["report"]
        chosen, given = report["trials"][report["chosen"]], report["trials"][0]
        _say(_verdict(report))
        _say(f"auto: chose {searched[report['chosen']]} ({report['metric']} {chosen['score']:.4f} on validation; the "
             f"settings given {given['score']:.4f}) in {report['seconds']:.1f} s "
             f"({report['seconds'] / max(report['trainingSeconds'], 1e-9):.1f}x the given settings' training, "
             f"{report['trainingSeconds']:.2f} s), work {report['costTrainings']:.1f} of {report['budgetTrainings']:.1f} "
             "trainings")
        params = self._model.params()
        self.factors, self.kind, self.confidence = params["factors"], params["kind"], params["confidence"]
        self.method = chosen["method"]
        if self.method == "bayes":
            # Bayesian PMF has no λ and runs its sweeps: the keywords that fit it again.
            self.iterations = self.regularization = None
            self._by_model_rows()
            return self
        self.iterations = chosen["iterations"]
        # λ and α mean what the keywords mean only with the given scaling
        # and unobserved weight; otherwise the keywords are left as given.
        same = ("regScaling", "regExponent", "unobservedWeight")
        if all(chosen["params"][k] == given["params"][k] for k in same):
            self.regularization, self.alpha = params["regularization"], params["alpha"]
        self._by_model_rows()
        return self

    def _by_positions(self, shape):
        """Maps the fitted matrix's rows and columns onto the model's rows
        (the model names them by their numbers)."""
        self._shape = (int(shape[0]), int(shape[1]))
        self._user_pos = np.asarray(self._model.user_ids(), dtype=np.int64)
        self._user_row = np.full(shape[0], -1, dtype=np.int64)
        self._user_row[self._user_pos] = np.arange(len(self._user_pos))
        item_pos = np.asarray(self._model.item_ids(), dtype=np.int64)
        self._item_row = np.full(shape[1], -1, dtype=np.int64)
        self._item_row[item_pos] = np.arange(len(item_pos))
        self._item_pos = item_pos

    def _reset_cache(self):
        self._sides = {}

    # -- what the model holds ----------------------------------------------

    def _require(self):
        if self._model is None:
            raise ValueError("the model is not fitted: call fit() first, or gramrec.load()")
        return self._model

    @property
    def params(self):
        """The model's settings as trained (a dict: kind, factors,
        regularization, alpha, confidence, biases, method; with biases,
        global_mean and rating_range; a ``method="bayes"`` model's samples,
        burn_in and learned noise_precision, and regularization None), the
        ones read from the data included."""
        return self._require().params()

    @property
    def user_ids(self):
        """The user ID at each position ``recommend`` and ``user_factors``
        use (a NumPy array of str): a model's own IDs by row, or a fitted
        matrix's row numbers."""
        return self._ids(self._require().user_ids(), 0)

    @property
    def item_ids(self):
        """The item ID at each position ``recommend`` returns and
        ``item_factors`` uses (a NumPy array of str): a model's own IDs by
        row, or a fitted matrix's column numbers."""
        return self._ids(self._require().item_ids(), 1)

    def _ids(self, by_row, axis):
        if self._shape is None:
            return np.asarray(by_row, dtype=object)
        return np.arange(self._shape[axis]).astype(str).astype(object)

    def _side(self, side):
        """(factors, biases) of "user" or "item" by the fitted matrix's
        positions, built on first use; zeros for a position without factors."""
        if self._sides.get(side) is None:
            m = self._require()
            if side == "user":
                vectors = m.user_vectors(self._user_row)
                f = m.params()["factors"]
                factors, biases = vectors[:, :f], (vectors[:, f] if vectors.shape[1] > f else None)
            else:
                rows, row_biases = m.item_matrix()
                factors = np.zeros((len(self._item_row), rows.shape[1]), dtype=np.float32)
                factors[self._item_pos] = rows
                biases = None
                if row_biases is not None:
                    biases = np.zeros(len(self._item_row), dtype=np.float32)
                    biases[self._item_pos] = row_biases
            self._sides[side] = (np.ascontiguousarray(factors),
                                 None if biases is None else np.ascontiguousarray(biases))
        return self._sides[side]

    user_factors = property(lambda self: self._side("user")[0], doc="""Users' factors (users x factors,
        float32), by the fitted matrix's rows (zeros for a row without interactions).""")
    user_biases = property(lambda self: self._side("user")[1], doc="""An explicit model's user biases
        (float32, by row; None for implicit models): a rating is predicted as the global mean plus both
        biases plus the factors' dot product, clipped to the training range.""")
    item_factors = property(lambda self: self._side("item")[0], doc="""Items' factors (items x factors,
        float32), by the fitted matrix's columns (zeros for a column without interactions).""")
    item_biases = property(lambda self: self._side("item")[1], doc="""An explicit model's item biases
        (float32, by column; None for implicit models).""")

    # -- scoring -------------------------------------------------------------

    def _item_rows(self, positions, name):
        return self._rows_of(positions, self._item_row, name, "item")

    def _history_rows(self, matrix, side="item", name="user_items"):
        """A CSR's rows as (indptr, model rows of ``side``, values), its
        columns being that side's positions; the columns the model has no
        factors for are left out."""
        to_row = self._item_row if side == "item" else self._user_row
        if matrix.shape[1] > len(to_row):
            raise ValueError(f"{name} has {matrix.shape[1]} columns, the model {len(to_row)} {side}s")
        rows = to_row[np.asarray(matrix.indices, dtype=np.int64)]
        keep = rows >= 0
        kept = np.concatenate([[0], np.cumsum(keep)]).astype(np.int64)
        return kept[matrix.indptr], rows[keep], np.asarray(matrix.data, dtype=np.float32)[keep]

    def partial_fit_users(self, userids, user_items):
        """Solves the users at ``userids`` (positions, as ``recommend``
        takes them) anew from ``user_items`` (one CSR row per user, items by
        column), as implicit's ``partial_fit_users``: each row is solved
        against the items exactly as ``recalculate_user`` solves it, and
        becomes that user's recorded training items (``recommend`` and the
        CLI leave them out). A position past the last user adds users to a
        model fitted from a matrix; a model indexed by its own IDs (from a
        frame, a file or :func:`load`) can change its users, not add new
        ones. The model is rebuilt (the time of a copy of it); ``save``
        writes it as changed."""
        self._partial_fit("user", userids, user_items, "user_items")

    def partial_fit_items(self, itemids, item_users):
        """Solves the items at ``itemids`` (positions) anew from
        ``item_users`` (one CSR row per item, users by column), as
        implicit's ``partial_fit_items``: each row is solved against the
        users exactly as training's item half-iteration solves it, and its
        popularity becomes its number of users. A position past the last
        item adds items to a model fitted from a matrix (not to one indexed
        by its own IDs). Users' recorded training items are kept as they
        were. The model is rebuilt, as :meth:`partial_fit_users`."""
        self._partial_fit("item", itemids, item_users, "item_users")

    def _partial_fit(self, side, positions, matrix, name):
        m = self._require()
        positions = np.atleast_1d(np.asarray(positions, dtype=np.int64))
        matrix = _csr(matrix, name)
        if len(positions) != matrix.shape[0]:
            raise ValueError(f"{name} must contain 1 row for every {side} in {side}ids")
        if len(positions) and positions.min() < 0:
            raise IndexError(f"negative {side}ids")
        indptr, other, values = self._history_rows(matrix, "item" if side == "user" else "user", name)
        axis = 0 if side == "user" else 1
        if self._shape is None:
            by_row = m.user_ids() if side == "user" else m.item_ids()
            if len(positions) and positions.max() >= len(by_row):
                raise ValueError(f"this model names its {side}s by ID and has {len(by_row)}: partial_fit_{side}s "
                                 f"changes them (positions below {len(by_row)}) but cannot add {side}s without IDs")
            ids = [by_row[p] for p in positions]
        else:
            ids = [str(p) for p in positions]
        self._model = m.partial_fit(f"{side}s", ids, indptr, other, values)
        if self._shape is None:
            self._by_model_rows()
        else:
            shape = list(self._shape)
            shape[axis] = max(shape[axis], int(positions.max()) + 1 if len(positions) else 0)
            self._by_positions(tuple(shape))
        self._reset_cache()

    def recommend(self, userid, user_items, N=10, filter_already_liked_items=True, filter_items=None,
                  recalculate_user=False, items=None):
        """The ``N`` best items for a user (``userid`` an int) or each of a
        batch (an array), as implicit's ``recommend``: returns ``(ids,
        scores)``, 1-D for one user and 2-D for a batch, best first.

        ``user_items`` holds one CSR row per user (their interactions, by
        item column): with ``filter_already_liked_items`` those items are
        left out, with ``recalculate_user`` the user's factors are solved
        from them (fold-in, as ``gramrec recommend --history``).
        ``filter_items`` are never returned; ``items`` restricts the ranking
        to those ids (not both). Where fewer than ``N`` items are left, the
        rest of the row is id -1 with score -inf; no row is longer than the
        model's items. Ids are positions: a fitted matrix's columns, or the
        model's rows for a model from ``fit_frame``, ``read`` or another
        tool (``item_ids`` names them either way). Scores are predicted
        preferences (implicit) or ratings clipped to the training range
        (explicit). Runs in parallel without the GIL.
        """
        m = self._require()
        N = _whole("N", N)
        single = np.isscalar(userid)
        users = np.atleast_1d(np.asarray(userid, dtype=np.int64))
        history = None
        if filter_already_liked_items or recalculate_user:
            user_items = _csr(user_items, "user_items")
            if user_items.shape[0] != len(users):
                raise ValueError("user_items must contain 1 row for every user in userids")
            history = self._history_rows(user_items)
        if items is not None and filter_items is not None:
            raise ValueError("Can't set both items and filter_items in recommend call")
        if recalculate_user:
            vectors = m.fold_in(*history)
        else:
            vectors = m.user_vectors(self._rows_of(users, self._user_row, "userid", "user"))
        if filter_already_liked_items:
            exclude_indptr, exclude = history[0], history[1]
        else:
            exclude_indptr, exclude = np.zeros(len(users) + 1, dtype=np.int64), _EMPTY
        always = _EMPTY if filter_items is None else self._item_rows(filter_items, "filter_items")
        always = always[always >= 0]
        candidates = None
        if items is not None:
            candidates = self._item_rows(items, "items")
            N = min(N, len(candidates))
            candidates = candidates[candidates >= 0]
        rows, scores = m.top_items(vectors, int(N), exclude_indptr, exclude, always, candidates)
        ids = self._positions_of(rows)
        if single:
            return ids[0], scores[0]
        return ids, scores

    def _positions_of(self, rows, positions=None):
        positions = self._item_pos if positions is None else positions
        ids = np.where(rows >= 0, positions[np.maximum(rows, 0)], -1)
        return ids.astype(np.int32 if len(positions) < 2**31 else np.int64)

    def _rows_of(self, ids, to_row, name, side):
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        if len(ids) and (ids.min() < 0 or ids.max() >= len(to_row)):
            raise IndexError(f"some {side} ids in {name} are not in the model ({len(to_row)} {side}s)")
        return to_row[ids]

    def similar_items(self, itemid, N=10, filter_items=None, items=None):
        """The ``N`` items most like an item (an int) or each of a batch (an
        array), by cosine similarity of the factors, the item itself first,
        as implicit's ``similar_items``: ``(ids, scores)``."""
        return self._similar("item", itemid, N, filter_items, items)

    def similar_users(self, userid, N=10, filter_users=None, users=None):
        """The ``N`` users most like a user (an int) or each of a batch (an
        array), by cosine similarity of the factors, the user itself first,
        as implicit's ``similar_users``: ``(ids, scores)``."""
        return self._similar("user", userid, N, filter_users, users)

    def _similar(self, side, query, N, leave_out, among):
        m = self._require()
        N = _whole("N", N)
        to_row, positions = (self._item_row, self._item_pos) if side == "item" else (self._user_row, self._user_pos)
        queries = self._rows_of(query, to_row, f"{side}id", side)
        if (queries < 0).any():
            raise ValueError(f"some {side}ids had no interactions in training: the model has no factors for them")
        if among is not None and leave_out is not None:
            raise ValueError(f"Can't set both {side}s and filter_{side}s in similar_{side}s call")
        always = _EMPTY if leave_out is None else self._rows_of(leave_out, to_row, f"filter_{side}s", side)
        candidates = None if among is None else self._rows_of(among, to_row, f"{side}s", side)
        rows, scores = m.similar(f"{side}s", queries, int(N), always[always >= 0],
                                 None if candidates is None else candidates[candidates >= 0])
        ids = self._positions_of(rows, positions)
        if np.isscalar(query):
            return ids[0], scores[0]
        return ids, scores

    def recalculate_user(self, userid, user_items):
        """Users' factors solved from ``user_items`` (one CSR row per user),
        without changing the model (implicit's ``recalculate_user``)."""
        m = self._require()
        user_items = _csr(user_items, "user_items")
        f = m.params()["factors"]
        vectors = m.fold_in(*self._history_rows(user_items))[:, :f]
        return vectors[0] if np.isscalar(userid) else vectors

    def recommend_for(self, user_id, N=10):
        """The ``N`` best items for a known user, by ID, their training items
        left out (``gramrec recommend --user``): a pandas DataFrame of item,
        score and, where the model has them, name, url and image."""
        return _frame(self._require().recommend_users([str(user_id)], int(N))[0])

    def recommend_history(self, history, N=10):
        """The ``N`` best items for a visitor the model has not seen, from
        their history ``[(item_id, weight), ...]`` (a rating for explicit
        models; a bare item ID weighs 1), folded in as ``gramrec recommend
        --history`` does and under its rules (a weight that is not a finite
        number raises ValueError); the history's items are left out. A
        DataFrame as :meth:`recommend_for`; its ``attrs`` hold
        ``cold_start`` (no known item: popular items) and ``unknown`` (item
        IDs the model does not know)."""
        pairs = [(str(item), None if weight is None else float(weight)) for item, weight in _entries(history)]
        items, cold_start, unknown = self._require().recommend_history(pairs, int(N))
        frame = _frame(items)
        frame.attrs.update(cold_start=cold_start, unknown=unknown)
        return frame

    # -- files ---------------------------------------------------------------

    def save(self, path, dtype=None):
        """Writes the model directory ``path`` (users.gramrec and
        items.gramrec), which ``gramrec recommend``, ``serve``, ``export``
        and the browser module read. ``dtype`` "f16" or "i8" stores smaller
        factors. Nothing else in ``path`` is touched."""
        notes = [] if self._shape is None else [(_POSITIONS_NOTE, f"{self._shape[0]}x{self._shape[1]}")]
        self._require().save(os.fspath(path), dtype, notes)


def auto(data, budget=None, metric=None, show_progress=True, callback=None, **params):
    """A model whose settings were searched as ``gramrec train --auto``
    searches them: around the settings ``params`` give (the keywords of
    :class:`ALS`; the rest read from the data, as ``fit`` reads them), on a
    validation split of ``data`` (:class:`Interactions`, from :func:`read` or
    :func:`interactions`), within ``budget`` ("10x": ten trainings' work, the
    default; "90s", "15m"; a number counts trainings) for ``metric``
    ("ndcg@10" for implicit models and "rmse" for explicit ones by default;
    "map@K", "precision@K", "recall@K", "auc", "mpr", "mae"). The winner is
    then fitted on all of ``data``. Each setting scored is printed, and the
    search's account is the model's ``auto_report`` (the dict ``train --json``
    gives as ``auto``: trials, chosen, leader, confirmation). The best on
    validation is retrained with the settings given on up to three fresh
    splits, and replaces them only if it beats them there by more than 1.645
    standard errors of the paired per-user (per-rating) difference.
    Ctrl-C stops the search between settings."""
    return ALS(**params)._auto(data, budget, metric, show_progress, callback)


def _verdict(report):
    """Why an ``auto`` search chose what it chose (the CLI's line)."""
    confirmation, leader = report.get("confirmation"), report["trials"][report["leader"]]
    if confirmation is None:
        return "auto: no setting beat the settings given on validation: keeping them"
    if confirmation["folds"] == 0:
        if confirmation["available"] == 0:
            why = "no fresh split can be carved from this data (its users have too few interactions)"
        elif report["budgetTrainings"] - report["costTrainings"] < confirmation["foldCost"]:
            why = f"the budget left cannot confirm it on a fresh split ({confirmation['foldCost']:.1f} trainings)"
        else:
            why = "no fresh split could be scored (their held-out users or items are unknown to the models)"
        return f"auto: candidate {leader['candidate']} leads on validation but {why}: keeping the settings given"
    won = report["chosen"] == report["leader"]
    unit = "rating" if report["metric"] in ("RMSE", "MAE") else "user"
    passed_over = ""
    if "bestUnconfirmed" in report:
        best = report["trials"][report["bestUnconfirmed"]]
        passed_over = (f"; candidate {best['candidate']} leads on validation ({report['metric']} {best['score']:.4f}) "
                       "but confirming it costs more than the budget left")
    return (f"auto: on the fresh splits candidate {leader['candidate']} scores {report['metric']} "
            f"{confirmation['leaderScore']:.4f} against the settings given's {confirmation['givenScore']:.4f}: "
            f"{confirmation['margin']:.1f} standard errors of the per-{unit} difference, "
            f"{'over' if won else 'not over'} {confirmation['needed']}: "
            f"{'choosing it' if won else 'within the noise, keeping the settings given'}{passed_over}")


def _say_search(event, searched):
    """Prints one step of an ``auto`` search (the CLI's lines), keeping
    each scored setting's text in ``searched``."""
    if event["step"] == "started":
        if event["race"] is not None:
            _say(f"auto: racing candidates on {event['race'][0]} of the {event['race'][1]} validation users (scoring "
                 "all of them would cost more than a quarter of a training a setting); the fresh splits score them all")
        _say(f"auto: searching settings within a budget of {event['budget']:.1f} trainings")
    elif event["step"] == "walk":
        _say(f"auto: a line along {event['symbol']} from the settings given or what the lines before chose: "
             f"{event['steps']}, each "
             f"{event['warm']} iterations on from the step before, a direction stopping at a step that does not "
             "improve (as the budget pays)")
    elif event["step"] == "bracket":
        _say(f"auto: {event['candidates']} new candidates by successive halving "
             f"(planned work: {event['planned']:.1f} trainings)")
    elif event["step"] == "confirmed":
        if event["fold"] == 1:
            plural = "" if event["folds"] == 1 else "s"
            _say(f"auto: confirming the best on validation, candidate {event['candidate']} after "
                 f"{event['iterations']} iterations ({event['metric']} {event['score']:.4f}), against the settings "
                 f"given on {event['folds']} fresh validation split{plural}")
        _say(f"  fresh split {event['fold']}: candidate {event['candidate']} {event['metric']} "
             f"{event['leader_score']:.4f}, the settings given {event['given_score']:.4f}")
    elif event["step"] == "unaffordable":
        _say(f"auto: not tried: {event['setting']} (method='bayes'): with its confirmation on a fresh split it "
             f"costs {event['cost']:.1f} trainings and "
             f"{event['left']:.1f} of the budget are left (a budget of {event['needed']:.0f} or more includes it)")
    else:
        searched.append(event["setting"])
        _say(f"  candidate {event['candidate']:>3}, rung {event['rung']}: {event['setting']}  "
             f"{event['metric']} {event['score']:.4f}")


def read(path, *, format=None, delimiter=None, header=None, encoding=None, user_col=None, item_col=None,
         rating_col=None, basket_col=None, value_map=None, timestamp_col=None, time_format=None, item_alias=None,
         skip_invalid=False):
    """Reads an interaction file as ``gramrec train --input`` does: CSV, TSV
    and other delimited text, JSON lines, baskets, Parquet files and Spark
    folders, gzip, any encoding; columns found by name or position, and
    every guess printed with its reason. Keywords are the CLI's input flags
    (``user_col="userId"`` is ``--user-col userId``; a column is a name or a
    0-based number; ``rating_col=False`` reads no values). Returns
    :class:`Interactions` for :meth:`ALS.fit`, :func:`evaluate` or
    :func:`rules`; bad input raises ValueError naming the file and line."""
    options = {
        "format": format, "delimiter": delimiter, "header": header, "encoding": encoding, "user_col": user_col,
        "item_col": item_col, "rating_col": rating_col, "basket_col": basket_col, "value_map": value_map,
        "timestamp_col": timestamp_col, "time_format": time_format,
        "item_alias": None if item_alias is None else os.fspath(item_alias), "skip_invalid": bool(skip_invalid),
    }
    data = Interactions.read(os.fspath(path), options)
    for note in data.notes:
        _say(f"{os.fspath(path)}: {note}")
    if data.skipped:
        kinds = ", ".join(f"{n} {kind}" for kind, n in data.skipped)
        _say(f"{os.fspath(path)}: skipped {sum(n for _, n in data.skipped)} bad lines ({kinds})")
    return data


def interactions(frame, user_col, item_col, value_col=None):
    """:class:`Interactions` from a table, one row per interaction: a pandas
    or polars DataFrame or a pyarrow Table, ``value_col`` (optional) the
    rating or strength. IDs are kept as text (integers as their digits), as
    ``gramrec train`` reads them from a file; a value column named like a
    strength (``plays``, ``count``…) reads as implicit feedback, as a file's
    header does. The ID columns reach the engine in Arrow's layout (pyarrow
    is needed), without a Python object per row."""
    users = _arrow_strings(frame, user_col)
    items = _arrow_strings(frame, item_col)
    values = None if value_col is None else _float_column(frame, value_col)
    return Interactions.columns(users, items, values, value_col)


def evaluate(model, test, k=10, train=None):
    """``gramrec evaluate --json``'s figures for ``model`` (an :class:`ALS`)
    on ``test`` (:class:`Interactions`): RMSE and MAE for explicit models,
    ranking metrics at ``k`` for both, each with its popularity baseline; each
    user's training items (the model's record, or ``train``'s) left out.
    A dict with the CLI's camelCase keys (docs/JSON.md)."""
    import json

    for name, data in (("test", test), ("train", train)):
        if data is not None and not isinstance(data, Interactions):
            raise TypeError(f"{name} must be gramrec.Interactions (from gramrec.read or gramrec.interactions), "
                            f"not {type(data).__name__}")
    return json.loads(_gramrec.evaluate(model._require(), test, _whole("k", k), train))


def rules(frame, basket_col=None, item_col=None, min_support=0.01, min_confidence=0.5, max_len=None,
          max_itemsets=None):
    """Association rules ("bought together") from baskets, by FP-growth as
    Spark's FPGrowth defines them and ``gramrec rules`` mines them: a pandas
    DataFrame with Spark's columns ``antecedent`` (a list of item IDs),
    ``consequent`` (a list of one), ``confidence``, ``lift`` and ``support``,
    best first. ``frame`` has one row per (basket, item), or is
    :class:`Interactions` whose users are the baskets. ``min_support`` is a
    fraction of the baskets (Spark's) or, as an int, a count of them.
    Items repeated within a basket count once. Mining stops with a
    ``ValueError`` past ``max_itemsets`` frequent itemsets (default 10
    million, about 50 bytes each) rather than exhaust memory."""
    import pandas as pd

    if not isinstance(frame, Interactions) and (basket_col is None or item_col is None):
        raise ValueError("name the basket and item columns (basket_col, item_col), or pass gramrec.Interactions")
    baskets = frame if isinstance(frame, Interactions) else interactions(frame, basket_col, item_col)
    found = _gramrec.rules(baskets, _min_support(min_support), _confidence(min_confidence), max_len,
                           _whole("max_itemsets", max_itemsets, minimum=1))
    return pd.DataFrame({
        "antecedent": [r[0] for r in found],
        "consequent": [[r[1]] for r in found],
        "confidence": np.array([r[2] for r in found], dtype=np.float64),
        "lift": np.array([r[3] for r in found], dtype=np.float64),
        "support": np.array([r[4] for r in found], dtype=np.float64),
    })


def _min_support(value):
    """A minimum support as the extension takes it: a count's digits (at
    least 1), or a fraction's (above 0, at most 1)."""
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    fraction = isinstance(value, (float, np.floating)) and 0 < value <= 1
    if not (whole and value >= 1 or fraction):
        raise ValueError(f"min_support must be a fraction of the baskets (above 0, at most 1) or a count of them "
                         f"(a whole number from 1), not {value!r}")
    return repr(int(value)) if whole else repr(float(value))


def _confidence(value):
    """A minimum confidence: a number from 0 to 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not 0 <= value <= 1:
        raise ValueError(f"min_confidence must be a number from 0 to 1, not {value!r}")
    return float(value)


def _whole(name, value, minimum=0):
    """A whole-number setting (None passes), refused with its name otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, not {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return int(value)


def _number(name, value):
    """A real-number setting (None passes), refused with its name otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, not {value!r}")
    return float(value)


def _index_array(index):
    """SciPy's row or column numbers as the extension reads them in place:
    int32 (or int64 past 2**31), contiguous."""
    dtype = np.int32 if index.dtype == np.int32 else np.int64
    return np.ascontiguousarray(index, dtype=dtype)


def _entries(history):
    """A history's entries as (item, weight): pairs, or bare item IDs (weight 1)."""
    for entry in history:
        if isinstance(entry, (tuple, list)) and len(entry) == 2:
            yield entry
        else:
            yield entry, None


def _frame(items):
    import pandas as pd

    columns = ["item", "score"] + [c for c in ("name", "url", "image") if any(r[c] is not None for r in items)]
    frame = pd.DataFrame({c: [r[c] for r in items] for c in columns}, columns=columns)
    frame["score"] = frame["score"].astype(np.float32)
    return frame


def _column(frame, name):
    """A column of a pandas or polars DataFrame or a pyarrow Table, as a pyarrow array."""
    import pyarrow as pa

    if isinstance(frame, dict):
        frame = pa.table(frame)
    if isinstance(frame, (pa.Table, pa.RecordBatch)):
        if name not in frame.schema.names:
            raise ValueError(f"no column '{name}' (the table has {', '.join(frame.schema.names)})")
        column = frame.column(name)
    else:
        if name not in frame.columns:
            raise ValueError(f"no column '{name}' (the frame has {', '.join(map(str, frame.columns))})")
        column = frame[name]
        column = column.to_arrow() if hasattr(column, "to_arrow") else pa.array(column)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column


def _arrow_strings(frame, name):
    """An ID column as (offsets, UTF-8 bytes) NumPy views of an Arrow
    large-string array: integers become their digits; missing values and
    floats are refused."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = _column(frame, name)
    if pa.types.is_floating(column.type):
        raise ValueError(f"column '{name}' holds floats ({column.type}): IDs must be integers or text "
                         "(a column of integers with missing values reads as floats)")
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if column.null_count:
        first = pc.index(pc.is_null(column), True).as_py()
        raise ValueError(f"column '{name}' has a missing value at row {first}: drop or fill missing IDs first")
    if not pa.types.is_large_string(column.type):
        column = column.cast(pa.large_string())
    _, offsets, data = column.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[column.offset:column.offset + len(column) + 1]
    data = np.zeros(0, dtype=np.uint8) if data is None else np.frombuffer(data, dtype=np.uint8)
    return offsets, data


def _float_column(frame, name):
    import pyarrow as pa

    column = _column(frame, name)
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise ValueError(f"column '{name}' holds {column.type}, not numbers")
    if column.null_count:
        import pyarrow.compute as pc

        first = pc.index(pc.is_null(column), True).as_py()
        raise ValueError(f"column '{name}' has a missing value at row {first}")
    return np.asarray(column.cast(pa.float32()).to_numpy(zero_copy_only=False), dtype=np.float32)


def _progress_bar(total):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="training", unit="it")


def load(path):
    """Reads a gramrec model directory (from ``gramrec train``, this
    package's ``save``, or an import from Spark or implicit) as an
    :class:`ALS`. A model this package fitted from a matrix is indexed by
    that matrix's rows and columns again; any other by its own rows, which
    ``user_ids`` and ``item_ids`` name."""
    path = os.fspath(path)
    model = ALS()
    model._model = _gramrec.load(path)
    params = model._model.params()
    model.factors, model.regularization, model.alpha = params["factors"], params["regularization"], params["alpha"]
    model.kind, model.confidence, model.method = params["kind"], params["confidence"], params["method"]
    if model.method == "bayes":
        # No λ (params gives None): refitting learns the prior again, with the model's chain length.
        model.samples, model.burn_in = params.get("samples"), params.get("burn_in")
    shape = dict(model._model.notes()).get(_POSITIONS_NOTE)
    if shape is None:
        model._by_model_rows()
    else:
        model._by_positions(tuple(int(n) for n in shape.split("x")))
    return model
