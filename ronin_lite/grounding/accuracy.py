"""How well a describer reads degradations: its detections scored against the synthesis records.

RONIN (arXiv 2507.14851) names the limit of its grounding itself: the MLLM sometimes describes
degradations that are not there, and the prompts can carry no more than the descriptions do.
With synthetic benchmarks every frame has a record of what was really applied
(:func:`ronin_lite.grounding.describers.labels_from_records`), so a describer's detections can be
scored per degradation, like a multi-label classifier:

- **precision** of a label: of the frames said to have it, the share that have it;
- **recall**: of the frames that have it, the share said to have it (a miss lowers it);
- **F1**: their harmonic mean; **macro-F1** the mean F1 over the labels a benchmark applies;
- **severity accuracy**: of the frames found with a label, the share given the right severity;
- the **confusion matrix**: for the frames of each true label (and clean frames), how often
  each label was reported (or none at all). A frame may report several labels, so a row can
  sum to more than its frames.

The paper does not score its describer (Q-Instruct) this way; we can, and do, because the
prompts the network learns are only as good as these descriptions.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .describers import LABELS, Detections, label_of, _rank

NOTHING = "nothing"  # the confusion matrix's column for frames with no detection
CLEAN = "clean"  # its row for frames with no degradation


def as_labels(detections: Detections) -> Detections:
    """Detections named by synthesis records (the oracle's ``gaussian_noise``, ``jpeg``, ...)
    renamed to the statistics describer's labels (``noise``, ``compression``); several names
    of one label keep the worst severity. Labels pass through unchanged."""
    out: Detections = {}
    for name, severity in detections.items():
        label = name if name in LABELS else label_of(name)
        if label not in out or _rank(severity) > _rank(out[label]):
            out[label] = severity
    return out


def _check_pair(predictions: Sequence[Detections], truths: Sequence[Detections]) -> None:
    if len(predictions) != len(truths):
        raise ValueError(
            f"got {len(predictions)} predictions for {len(truths)} truths: give one per frame"
        )


def score_detections(predictions: Sequence[Detections], truths: Sequence[Detections],
                     labels: Sequence[str] = LABELS) -> dict[str, dict]:
    """Per label: support, TP, FP, FN, precision, recall, F1 and severity accuracy.

    ``predictions`` and ``truths`` hold one ``{label: severity}`` per frame (record names are
    mapped to labels with :func:`as_labels`). A label with no predicted and no true frame gets
    precision, recall and F1 of 0 and a severity accuracy of NaN.
    """
    _check_pair(predictions, truths)
    predictions = [as_labels(p) for p in predictions]
    truths = [as_labels(t) for t in truths]
    out = {}
    for label in labels:
        tp = sum(label in p and label in t for p, t in zip(predictions, truths))
        fp = sum(label in p and label not in t for p, t in zip(predictions, truths))
        fn = sum(label not in p and label in t for p, t in zip(predictions, truths))
        right = [p[label] == t[label] for p, t in zip(predictions, truths)
                 if label in p and label in t]
        out[label] = {
            "support": tp + fn, "tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
            "severity_acc": float(np.mean(right)) if right else float("nan"),
        }
    return out


def macro_f1(scores: dict[str, dict]) -> float:
    """Mean F1 over the labels that occur in the truths (support > 0) of ``scores``."""
    present = [r["f1"] for r in scores.values() if r["support"]]
    if not present:
        raise ValueError("no label occurs in the truths: macro-F1 is undefined")
    return float(np.mean(present))


def confusion_matrix(predictions: Sequence[Detections], truths: Sequence[Detections],
                     labels: Sequence[str] = LABELS) -> tuple[np.ndarray, list[str], list[str]]:
    """Counts ``(len(labels) + 1, len(labels) + 1)``, row names, column names.

    Rows: the true labels, then ``clean`` (frames without any). Columns: the reported labels,
    then ``nothing`` (frames without any detection). Cell (i, j) counts the frames of row i
    that reported column j; a frame with several true labels counts in each of their rows.
    """
    _check_pair(predictions, truths)
    rows, cols = list(labels) + [CLEAN], list(labels) + [NOTHING]
    counts = np.zeros((len(rows), len(cols)), np.int64)
    for p, t in zip(predictions, truths):
        p, t = as_labels(p), as_labels(t)
        unknown = sorted((set(p) | set(t)) - set(labels))
        if unknown:
            raise ValueError(f"labels {unknown} are not among {list(labels)}")
        reported = [cols.index(label) for label in p] or [len(labels)]
        for i in [rows.index(label) for label in t] or [len(labels)]:
            counts[i, reported] += 1
    return counts, rows, cols
