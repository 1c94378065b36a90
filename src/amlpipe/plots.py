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
    """One panel per feature: distributions by class (boxes for numbers, rates for 0/1 columns, the
    share of the most frequent value for text columns)."""
    import matplotlib.pyplot as plt

    features = [c for c in df.columns if c != label]
    columns = 4
    rows = int(np.ceil(len(features) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows))
    classes = sorted(df[label].unique())
    for ax, feature in zip(np.ravel(axes), features):
        values = df[feature]
        if not pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            top = values.mode().iloc[0] if values.notna().any() else None
            rates = [(values[df[label] == c] == top).mean() for c in classes]
            ax.bar([str(c) for c in classes], rates, color=["#4c72b0", "#dd8452"][: len(classes)])
            ax.set_ylabel(f"share = {str(top)[:12]}")
        elif set(values.dropna().unique()) <= {0, 1}:
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
    """ROC curve of out-of-fold probabilities (columns y_true, proba_<class>): the positive class's
    for two classes, one curve per class against the rest for more."""
    from sklearn.metrics import roc_auc_score, roc_curve as sk_roc_curve

    columns = [c for c in oof.columns if c.startswith("proba_")]
    if positive is None:
        positive = columns[-1] if len(columns) == 2 else None
    fig, ax = _figure(4.5, 4.5)
    for column in [positive] if positive else columns:
        cls = column.removeprefix("proba_")
        truth = oof["y_true"].astype(str) == cls
        fpr, tpr, _ = sk_roc_curve(truth, oof[column])
        name = f"{cls}: " if not positive else ""
        ax.plot(fpr, tpr, label=f"{name}AUC {roc_auc_score(truth, oof[column]):.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC (out-of-fold)" if positive else "ROC, each class against the rest (out-of-fold)")
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


def pipeline_graph(definition, run=None):
    """The pipeline's steps as boxes left to right, inputs and outputs on the arrows.

    Args:
        definition: An `amlpipe.pipeline.PipelineDefinition`.
        run: Its `PipelineRun`, to colour each step by status (reused steps hatched) and
            write its duration under it.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    colours = {"Completed": "#55a868", "Failed": "#c44e52", "NotStarted": "#cccccc"}
    steps = [s.name for s in definition.steps]
    runs = {s.name: s for s in run.steps} if run is not None else {}
    first_input = definition.steps[0].inputs[0]
    fig, ax = _figure(3.2 * (len(steps) + 1), 2.6)
    ax.set_xlim(-1.6, 3 * len(steps) - 0.6)
    ax.set_ylim(-1.4, 1.2)
    ax.axis("off")
    ax.text(-1.1, 0, first_input, ha="center", va="center", fontsize=9, style="italic")
    ax.add_patch(FancyArrowPatch((-0.5, 0), (0, 0), arrowstyle="-|>", mutation_scale=14))
    for index, step in enumerate(definition.steps):
        x = 3 * index
        state = runs.get(step.name)
        box = FancyBboxPatch((x, -0.45), 1.8, 0.9, boxstyle="round,pad=0.05", linewidth=1.2, edgecolor="black",
                             facecolor=colours.get(getattr(state, "status", ""), "#8fb3de"),
                             hatch="//" if getattr(state, "reused", False) else None, label=step.name)
        ax.add_patch(box)
        ax.text(x + 0.9, 0, step.name, ha="center", va="center", fontsize=11, weight="bold",
                bbox={"facecolor": "white", "edgecolor": "none", "boxstyle": "round,pad=0.2"})
        if state is not None:
            note = "reused" if state.reused else state.status
            if state.seconds is not None:
                note += f", {state.seconds:.1f} s"
            ax.text(x + 0.9, -0.75, note, ha="center", va="top", fontsize=9)
        for offset, output in enumerate(o for o in step.outputs if not any(o == e[1] for e in definition.edges())):
            ax.text(x + 0.9, 0.65 + 0.3 * offset, output, ha="center", va="bottom", fontsize=8, style="italic")
    for producer, output, consumer in definition.edges():
        start, end = 3 * steps.index(producer) + 1.85, 3 * steps.index(consumer) - 0.05
        ax.add_patch(FancyArrowPatch((start, 0), (end, 0), arrowstyle="-|>", mutation_scale=14))
        ax.text((start + end) / 2, 0.12, output, ha="center", va="bottom", fontsize=8, style="italic")
    ax.set_title(f"pipeline {definition.name}" + (f": run {run.id[:8]} {run.status}" if run is not None else ""))
    fig.tight_layout()
    return fig
