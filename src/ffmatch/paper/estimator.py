"""A scikit-learn classifier over ffmatch's batched trainer, for ``Pipeline`` and CV.

``FFMatchClassifier`` follows scikit-learn's estimator contract: ``__init__`` only stores
its arguments, ``fit`` validates, learns the Min-Max scaling and trains one network with
``ffmatch.paper.nn.train.train_many`` (the code the CLI uses), then sets attributes ending in
``_``. Because the scaling is fitted inside ``fit``, ``cross_val_score`` and ``Pipeline``
never show the scaler a validation row. Binary only: a match decision has two labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import Tags, check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from ffmatch.core.errors import ConfigError
from ffmatch.core.scaling import MinMax, fit_min_max
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.nn.train import History, TrainJob, device_type, train_many

__all__ = ["FFMatchClassifier"]

# Seeds are drawn below 2**31 - 1, so any random_state maps to a valid TrainJob seed.
_MAX_SEED = int(np.iinfo(np.int32).max)


# ClassifierMixin before BaseEstimator: scikit-learn's contract (check_mixin_order) wants
# mixins on the left so their tags and defaults take precedence.
class FFMatchClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """The paper's MLP (section 2.2) as a binary scikit-learn classifier.

    Parameters
    ----------
    hidden : tuple of int or int, default=(20, 10)
        Hidden layer widths; the paper's 56-20-10-2 network has (20, 10).
    epochs : int, default=80
        Full passes over the training rows.
    lr : float, default=1e-4
        Adam step size.
    batch_size : int, default=12
        Rows per Adam step; the last batch of an epoch may be shorter.
    scale : bool, default=True
        Fit Min-Max (the paper's Formula 1) on the rows given to ``fit`` and apply it to
        every later input; ``False`` feeds the network the raw features.
    random_state : int, RandomState instance or None, default=None
        Draws the network's seed (its initial weights and batch order).
    device : str, default="cpu"
        Torch device to train on, e.g. ``"cuda"``; prediction runs in NumPy.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels; ``classes_[1]`` is the one ``predict_proba[:, 1]`` scores.
    n_features_in_ : int
        Number of features seen in ``fit``.
    scaling_ : MinMax
        The fitted Min-Max transform (the identity when ``scale=False``).
    weights_ : MLPWeights
        The trained network as plain arrays.
    history_ : History
        Per-epoch training loss and accuracy (validation entries are NaN).
    seed_ : int
        The seed drawn from ``random_state`` and given to the trainer.
    """

    def __init__(
        self,
        *,
        hidden: tuple[int, ...] | int = (20, 10),
        epochs: int = 80,
        lr: float = 1e-4,
        batch_size: int = 12,
        scale: bool = True,
        random_state: int | np.random.RandomState | None = None,
        device: str = "cpu",
    ) -> None:
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.scale = scale
        self.random_state = random_state
        self.device = device

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> Self:
        """Learn the scaling on ``X`` and train one network; returns ``self``."""
        config = self._config()
        device = self._device()
        x_arr, y_arr = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y_arr)
        y_type = type_of_target(y_arr, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{y_type}: FFMatchClassifier decides match or no match, so give y two labels."
            )
        classes, codes = np.unique(y_arr, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y has only one class ({classes[0]!r}); the classifier needs samples of two "
                "classes to learn to tell them apart."
            )
        scaling = fit_min_max(x_arr) if self.scale else _identity(x_arr.shape[1])
        seed = int(check_random_state(self.random_state).randint(_MAX_SEED))
        job = TrainJob(
            x_train=scaling.transform(x_arr),  # (n, d) float32
            y_train=codes.astype(np.int64),  # (n,) index into classes_
            hidden=config.hidden,
            epochs=config.epochs,
            lr=config.lr,
            batch_size=config.batch_size,
            seed=seed,
        )
        (result,) = train_many([job], device=device)
        self.classes_ = classes
        self.scaling_ = scaling
        self.seed_ = seed
        self.weights_: MLPWeights = result.weights
        self.history_: History = result.history
        return self

    def predict_proba(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Probability of each class, (n, 2) in ``classes_`` order."""
        check_is_fitted(self)
        x_arr = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return np.asarray(self.weights_.predict_proba(self.scaling_.transform(x_arr)), np.float64)

    def predict(self, X: npt.ArrayLike) -> npt.NDArray[Any]:
        """The more probable label of each row (a tie goes to ``classes_[0]``)."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # two labels: match or not
        return tags

    def _config(self) -> MLPConfig:
        """The network settings as an ``MLPConfig``, which checks their ranges."""
        hidden = self.hidden
        widths = (hidden,) if isinstance(hidden, int | np.integer) else hidden
        if (
            isinstance(widths, str | bytes)
            or not isinstance(widths, Iterable)
            or not all(isinstance(h, int | np.integer) for h in widths)
        ):
            raise ConfigError(f"hidden: expected an int or a tuple of ints, found {hidden!r}")
        return MLPConfig(
            hidden=tuple(int(h) for h in widths),
            epochs=int(self.epochs),
            lr=float(self.lr),
            batch_size=int(self.batch_size),
        )

    def _device(self) -> str:
        """``device`` if torch knows it, else ConfigError naming the value."""
        device_type(str(self.device))
        return str(self.device)


def _identity(d: int) -> MinMax:
    """The Min-Max transform that leaves ``d`` features as they are (``scale=False``)."""
    return MinMax(min=np.zeros(d, np.float64), scale=np.ones(d, np.float64))
