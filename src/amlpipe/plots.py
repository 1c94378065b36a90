"""The plots the notebooks show; each returns a matplotlib Figure."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd


def _figure(width: float = 6, height: float = 4):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def class_balance(df: pd.DataFrame, label: str):
    fig, ax = _figure(5, 3.5)
    counts = df[label].value_counts().sort_index()
    ax.bar([str(c) for c in counts.index], counts.values, color=["#4c72b0", "#dd8452"][: len(counts)])
    for x, v in enumerate(counts.values):
        ax.annotate(f"{v} ({v / counts.sum():.0%})", (x, v), ha="center", va="bottom")
    ax.set_xlabel(label)
    ax.set_ylabel("rows")
    ax.set_title("Class balance")
    fig.tight_layout()
    return fig


def features_by_outcome(df: pd.DataFrame, label: str):
    """One panel per feature: distributions by class (boxes for numbers, rates for 0/1 columns)."""
    import matplotlib.pyplot as plt

    features = [c for c in df.columns if c != label]
    columns = 4
    rows = int(np.ceil(len(features) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows))
    classes = sorted(df[label].unique())
    for ax, feature in zip(np.ravel(axes), features):
        values = df[feature]
        if set(values.dropna().unique()) <= {0, 1}:
            rates = [values[df[label] == c].mean() for c in classes]
            ax.bar([str(c) for c in classes], rates, color=["#4c72b0", "#dd8452"][: len(classes)])
            ax.set_ylabel("share = 1")
        else:
            ax.boxplot([values[df[label] == c].dropna() for c in classes])
            ax.set_xticks(range(1, len(classes) + 1), [str(c) for c in classes])
        ax.set_title(feature, fontsize=9)
        ax.set_xlabel(label, fontsize=8)
    for ax in np.ravel(axes)[len(features):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def best_score_over_time(leaderboard: pd.DataFrame, metric: str, greater_is_better: bool = True):
    """Each trial's score against elapsed time, with the running best; the fixed configurations
    scored after the search as crosses at its end, the ensembles as lines."""
    trials = leaderboard.dropna(subset=["elapsed_s"]).sort_values("elapsed_s")
    after = leaderboard[leaderboard["elapsed_s"].isna() & leaderboard[metric].notna()]
    is_ensemble = after["algorithm"].isin(["VotingEnsemble", "StackEnsemble"])
    fig, ax = _figure()
    ax.scatter(trials["elapsed_s"], trials[metric], s=12, alpha=0.5, label="trial")
    running = trials[metric].cummax() if greater_is_better else trials[metric].cummin()
    ax.step(trials["elapsed_s"], running, where="post", color="#c44e52", label="best so far")
    fixed = after[~is_ensemble]
    if len(fixed) and len(trials):
        ax.scatter([trials["elapsed_s"].max()] * len(fixed), fixed[metric], marker="x", color="#8172b2",
                   label="fixed configuration (after the search)")
    for (_, row), style in zip(after[is_ensemble].iterrows(), ("--", ":")):
        ax.axhline(row[metric], linestyle=style, color="#55a868", label=f"{row['algorithm']} (after the search)")
    ax.set_xlabel("seconds since the search started")
    ax.set_ylabel(metric)
    ax.set_title("Best score over time")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def roc_curve(oof: pd.DataFrame, positive: Optional[str] = None):
    """ROC curve of out-of-fold probabilities (columns y_true, proba_<class>)."""
    from sklearn.metrics import roc_auc_score, roc_curve as sk_roc_curve

    positive = positive or [c for c in oof.columns if c.startswith("proba_")][-1]
    cls = positive.removeprefix("proba_")
    truth = oof["y_true"].astype(str) == cls
    fpr, tpr, _ = sk_roc_curve(truth, oof[positive])
    fig, ax = _figure(4.5, 4.5)
    ax.plot(fpr, tpr, label=f"AUC {roc_auc_score(truth, oof[positive]):.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC (out-of-fold)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def confusion_matrix(oof: pd.DataFrame):
    """Confusion matrix of out-of-fold predicted labels."""
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = _figure(4.5, 4)
    ConfusionMatrixDisplay.from_predictions(oof["y_true"], oof["y_pred"], ax=ax, colorbar=False)
    ax.set_title("Confusion matrix (out-of-fold)")
    fig.tight_layout()
    return fig


def feature_importance(importance: pd.DataFrame):
    """Horizontal bars of permutation importance with its spread."""
    ordered = importance.sort_values("importance")
    fig, ax = _figure(6, 0.35 * len(ordered) + 1)
    ax.barh(ordered["feature"], ordered["importance"], xerr=ordered["std"], color="#4c72b0")
    ax.set_xlabel("drop in score when the feature is shuffled")
    ax.set_title("Permutation feature importance")
    fig.tight_layout()
    return fig
