# Type stubs of gramrec (the implementation is gramrec/__init__.py over the
# Rust extension gramrec._gramrec).
from os import PathLike
from typing import Callable, Iterable, Literal, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt
import scipy.sparse

__version__: str

_Ids = Union[int, npt.ArrayLike]
_Path = Union[str, PathLike]

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
    ) -> None: ...
    def fit(
        self,
        user_items: scipy.sparse.csr_matrix,
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
    def user_ids(self) -> npt.NDArray[np.object_]: ...
    @property
    def item_ids(self) -> npt.NDArray[np.object_]: ...
    @property
    def user_factors(self) -> npt.NDArray[np.float32]: ...
    @property
    def item_factors(self) -> npt.NDArray[np.float32]: ...
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
    def recalculate_user(self, userid: _Ids, user_items: scipy.sparse.csr_matrix) -> npt.NDArray[np.float32]: ...
    def recommend_for(self, user_id: object, N: int = 10) -> "pandas.DataFrame": ...  # noqa: F821
    def recommend_history(self, history: Iterable[Tuple[object, float]], N: int = 10) -> "pandas.DataFrame": ...  # noqa: F821
    def save(self, path: _Path, dtype: Optional[Literal["f32", "f16", "i8"]] = None) -> None: ...

def load(path: _Path) -> ALS: ...
