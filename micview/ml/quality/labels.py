"""Out-of-fold class probabilities for confident learning (:mod:`micview.core.quality.confident`).

The probabilities are always the mean of two calibrated classifiers that did not see the image's label:
cosine k-nearest neighbours (classes made of several separate clusters) and logistic regression (the
standard linear probe). Why these two and not the project's ``method='auto'`` choice: on the 345 DoITPoMS
micrographs with 15 technique labels flipped on purpose, ``auto`` picked the prototype classifier (best
likelihood) and confident learning then found 8 of the 15 among 70 flagged; k-NN found 12 among 50, logistic
regression 9 among 51, and their mean 11 among 39 (the best precision; ensembles are also what the
confident-learning authors recommend).

* Up to :data:`FEW_SHOT_UP_TO` labelled images: both from :func:`micview.ml.classify.fewshot.fit_few_shot`
  with stratified 5-fold cross-validation, each temperature-calibrated on its own out-of-fold logits.
* Above: k-NN *leave-one-out* from the neighbour graph the quality run already has (each image voted on by
  its labelled neighbours, weighted by similarity; free), and logistic regression on a 64-dimensional PCA,
  each fold trained on at most :data:`MAX_TRAIN` rows — seconds at 100k labels.

Classes with fewer than :data:`MIN_PER_CLASS` labels cannot be cross-validated; their images get no score.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from micview.core.quality.knn import Neighbours, row_blocks

FEW_SHOT_UP_TO = 5_000
MIN_PER_CLASS = 3
PCA_DIM = 64
MAX_TRAIN = 10_000
ENSEMBLE = ("knn", "logreg")
_KNN_SHARPNESS = 10.0  # as the few-shot k-NN: exp(10 · cosine) weights


@dataclass(frozen=True)
class OutOfFold:
    """Probabilities of the rows in ``rows`` (indices into the labelled set) over ``classes``."""

    rows: np.ndarray
    labels: np.ndarray
    proba: np.ndarray
    classes: list[str]
    method: str
    skipped: list[str] = field(default_factory=list)


def out_of_fold(
    X: np.ndarray, labels: list[str], *, graph: Neighbours | None = None, seed: int = 0
) -> OutOfFold | None:
    """Out-of-fold probabilities of each labelled row; ``None`` when fewer than two classes can be used.

    ``graph``: neighbours *among these rows* (row indices into ``X``), used above :data:`FEW_SHOT_UP_TO`.
    """
    counts = Counter(labels)
    classes = sorted(c for c, n in counts.items() if n >= MIN_PER_CLASS)
    skipped = sorted(c for c, n in counts.items() if n < MIN_PER_CLASS)
    if len(classes) < 2:
        return None
    index = {c: i for i, c in enumerate(classes)}
    code = np.array([index.get(lab, -1) for lab in labels], np.int64)
    rows = np.flatnonzero(code >= 0)
    y = code[rows]
    if len(rows) <= FEW_SHOT_UP_TO or graph is None:
        proba, method = _few_shot(X[rows], [labels[i] for i in rows], classes, seed)
    else:
        knn = _graph_knn(graph, code, len(classes))[rows]
        logreg = _pca_logreg(X[rows], y, len(classes), seed)
        proba = (_calibrated(np.log(knn), y) + _calibrated(logreg, y)) / 2
        method = "mean of k-NN (leave-one-out, neighbour graph) and logistic regression (PCA-64, 5-fold), calibrated"
    return OutOfFold(rows, y, proba, classes, method, skipped)


def _few_shot(X: np.ndarray, y: list[str], classes: list[str], seed: int) -> tuple[np.ndarray, str]:
    from micview.ml.classify.fewshot import fit_few_shot

    probas = []
    for method in ENSEMBLE:
        model = fit_few_shot(X, y, classes=classes, method=method, seed=seed)
        assert model.oof_log_proba is not None  # every class has >= MIN_PER_CLASS labels, so folds exist
        probas.append(np.exp(model.oof_log_proba))
    return np.mean(probas, axis=0), f"mean of {' and '.join(ENSEMBLE)} (few-shot, 5-fold), calibrated"


def _calibrated(logits: np.ndarray, y: np.ndarray, *, sample: int = 20_000) -> np.ndarray:
    """Softmax at the temperature that fits ``y`` best (fitted on at most ``sample`` rows: one number)."""
    from micview.ml.classify.fewshot import fit_temperature, log_softmax

    rows = np.random.default_rng(0).choice(len(y), min(len(y), sample), replace=False)
    out: np.ndarray = np.exp(log_softmax(logits / fit_temperature(logits[rows], y[rows])))
    return out


def _graph_knn(graph: Neighbours, code: np.ndarray, n_classes: int) -> np.ndarray:
    """Leave-one-out k-NN probabilities from the graph (the row itself is never its own neighbour)."""
    neighbour_code = np.where(graph.rows >= 0, code[np.maximum(graph.rows, 0)], -1)
    ok = neighbour_code >= 0
    w = np.where(ok, np.exp(_KNN_SHARPNESS * np.where(ok, graph.sims, 0.0)), 0.0)
    votes = np.zeros((len(code), n_classes))
    r = np.repeat(np.arange(len(code)), graph.k)
    np.add.at(votes, (r[ok.ravel()], neighbour_code.ravel()[ok.ravel()]), w.ravel()[ok.ravel()])
    total = votes.sum(1, keepdims=True)
    votes = np.where(total > 0, votes / np.maximum(total, 1e-300), 1.0 / n_classes)
    return votes + 0.5 / graph.k  # add-half smoothing, as the few-shot k-NN: an unseen class stays possible


def _pca_logreg(X: np.ndarray, y: np.ndarray, n_classes: int, seed: int) -> np.ndarray:
    """Out-of-fold logits of logistic regression on a PCA of ``X``, each fold fitted on ≤ MAX_TRAIN rows."""
    from sklearn.linear_model import LogisticRegression

    from micview.ml.classify.fewshot import folds_for

    rng = np.random.default_rng(seed)
    sample = X[np.sort(rng.choice(len(X), min(len(X), MAX_TRAIN), replace=False))].astype(np.float32)
    mean = sample.mean(0)
    axes = np.linalg.svd(sample - mean, full_matrices=False)[2][:PCA_DIM].T
    Z = np.empty((len(X), axes.shape[1]), np.float32)
    for s, e in row_blocks(len(X), 16_384):
        Z[s:e] = (X[s:e] - mean) @ axes
    Z /= np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
    out = np.full((len(y), n_classes), -30.0)  # a class a fold never saw gets a very low score
    for train, test in folds_for(y, seed):
        if len(train) > MAX_TRAIN:
            train = np.sort(rng.choice(train, MAX_TRAIN, replace=False))
        # the project's linear probe settings (micview.ml.classify.fewshot): C = 10, balanced classes
        model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000, tol=1e-3).fit(Z[train], y[train])
        out[np.ix_(test, model.classes_)] = model.predict_log_proba(Z[test])
    return out
