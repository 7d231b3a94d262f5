# Type stubs of gramrec (the implementation is gramrec/__init__.py over the
# Rust extension gramrec._gramrec).
from os import PathLike
from typing import Any, Callable, Dict, Iterable, List, Literal, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt
import scipy.sparse

__version__: str

_Ids = Union[int, npt.ArrayLike]
_Path = Union[str, PathLike]

class Interactions:
    """Interactions held by the engine: from :func:`read` or :func:`interactions`."""
    def __len__(self) -> int: ...
    @property
    def user_count(self) -> int: ...
    @property
    def item_count(self) -> int: ...
    @property
    def has_values(self) -> bool: ...
    @property
    def notes(self) -> List[str]: ...
    @property
    def skipped(self) -> List[Tuple[str, int]]: ...

class ALS:
    factors: Optional[int]
    regularization: Optional[float]
    alpha: Optional[float]
    iterations: Optional[int]
    random_state: Optional[int]
    num_threads: int
    use_cg: bool
    device: Literal["auto", "gpu", "cpu"]
    kind: Optional[Literal["implicit", "explicit"]]
    confidence: Optional[Literal["linear", "log"]]
    cg_steps: int
    method: Literal["als", "bayes"]
    samples: Optional[int]
    burn_in: Optional[int]
    auto_report: Optional[Dict[str, Any]]
    def __init__(
        self,
        factors: Optional[int] = None,
        regularization: Optional[float] = None,
        alpha: Optional[float] = None,
        iterations: Optional[int] = None,
        random_state: Optional[int] = None,
        num_threads: int = 0,
        use_cg: bool = True,
        device: Literal["auto", "gpu", "cpu"] = "auto",
        kind: Optional[Literal["implicit", "explicit"]] = None,
        confidence: Optional[Literal["linear", "log"]] = None,
        cg_steps: int = 3,
        method: Literal["als", "bayes"] = "als",
        samples: Optional[int] = None,
        burn_in: Optional[int] = None,
    ) -> None: ...
    def fit(
        self,
        user_items: Union[scipy.sparse.csr_matrix, Interactions],
        show_progress: bool = True,
        callback: Optional[Callable[[int, float, float], None]] = None,
    ) -> ALS: ...
    def fit_frame(
        self,
        frame: object,
        user_col: str,
        item_col: str,
        value_col: Optional[str] = None,
        show_progress: bool = True,
        callback: Optional[Callable[[int, float, float], None]] = None,
    ) -> ALS: ...
    @property
    def params(self) -> Dict[str, Any]: ...
    @property
    def user_ids(self) -> npt.NDArray[np.object_]: ...
    @property
    def item_ids(self) -> npt.NDArray[np.object_]: ...
    @property
    def user_factors(self) -> npt.NDArray[np.float32]: ...
    @property
    def item_factors(self) -> npt.NDArray[np.float32]: ...
    @property
    def user_biases(self) -> Optional[npt.NDArray[np.float32]]: ...
    @property
    def item_biases(self) -> Optional[npt.NDArray[np.float32]]: ...
    def recommend(
        self,
        userid: _Ids,
        user_items: Optional[scipy.sparse.csr_matrix],
        N: int = 10,
        filter_already_liked_items: bool = True,
        filter_items: Optional[npt.ArrayLike] = None,
        recalculate_user: bool = False,
        items: Optional[npt.ArrayLike] = None,
    ) -> Tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]: ...
    def similar_items(
        self,
        itemid: _Ids,
        N: int = 10,
        filter_items: Optional[npt.ArrayLike] = None,
        items: Optional[npt.ArrayLike] = None,
    ) -> Tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]: ...
    def similar_users(
        self,
        userid: _Ids,
        N: int = 10,
        filter_users: Optional[npt.ArrayLike] = None,
        users: Optional[npt.ArrayLike] = None,
    ) -> Tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]: ...
    def recalculate_user(self, userid: _Ids, user_items: scipy.sparse.csr_matrix) -> npt.NDArray[np.float32]: ...
    def partial_fit_users(self, userids: _Ids, user_items: scipy.sparse.csr_matrix) -> None: ...
    def partial_fit_items(self, itemids: _Ids, item_users: scipy.sparse.csr_matrix) -> None: ...
    def recommend_for(self, user_id: object, N: int = 10) -> "pandas.DataFrame": ...  # noqa: F821
    def recommend_history(self, history: Iterable[Union[Tuple[object, Optional[float]], object]], N: int = 10) -> "pandas.DataFrame": ...  # noqa: F821
    def save(self, path: _Path, dtype: Optional[Literal["f32", "f16", "i8"]] = None) -> None: ...

def load(path: _Path) -> ALS: ...
def auto(
    data: Interactions,
    budget: Optional[Union[str, int, float]] = None,
    metric: Optional[str] = None,
    show_progress: bool = True,
    callback: Optional[Callable[[int, float, float], None]] = None,
    **params: Any,
) -> ALS: ...
def read(
    path: _Path,
    *,
    format: Optional[str] = None,
    delimiter: Optional[str] = None,
    header: Optional[str] = None,
    encoding: Optional[str] = None,
    user_col: Optional[Union[str, int]] = None,
    item_col: Optional[Union[str, int]] = None,
    rating_col: Optional[Union[str, int, Literal[False]]] = None,
    basket_col: Optional[Union[str, int]] = None,
    value_map: Optional[str] = None,
    timestamp_col: Optional[Union[str, int]] = None,
    time_format: Optional[str] = None,
    item_alias: Optional[_Path] = None,
    skip_invalid: bool = False,
) -> Interactions: ...
def interactions(frame: object, user_col: str, item_col: str, value_col: Optional[str] = None) -> Interactions: ...
def evaluate(model: ALS, test: Interactions, k: int = 10, train: Optional[Interactions] = None) -> Dict[str, Any]: ...
def rules(
    frame: Union[object, Interactions],
    basket_col: Optional[str],
    item_col: Optional[str],
    min_support: Union[float, int] = 0.01,
    min_confidence: float = 0.5,
    max_len: Optional[int] = None,
    max_itemsets: Optional[int] = None,
) -> "pandas.DataFrame": ...  # noqa: F821
