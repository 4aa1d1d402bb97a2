"""Does the prompt carry degradation information? Measures of RONIN's prompt approximation.

RONIN (arXiv 2507.14851) trains its prompt ``P_t`` towards the text embedding ``e_t`` of a
description of frame ``t`` and reports restoration only. A prototype of this course showed
why that is not enough: description embeddings are alike (pairwise cosine 0.45-0.93), so a
prompt stuck at the *mean* embedding already has a cosine of ~0.94 to every target and an L1
close to the best constant. These functions say whether a prompt tells degradations apart:

* :func:`prompt_agreement` - cosine to the target raw and *centred* (both minus the training
  mean: the informative part), R^2 of the prediction (1 perfect, 0 = the mean predictor), and
  the *spread ratio*: the prompts' standard deviation across frames over the targets' (0 means
  collapse: the same prompt for every frame).
* :func:`description_prototypes` + :func:`nearest_description` - the *nearest-description
  accuracy*: embed many phrasings of "<severity> <degradation>" (the describers' own phrasing,
  :func:`ronin_lite.grounding.describers.phrase`), average them per (degradation, severity)
  into prototypes, and name each prompt by the nearest prototype (cosine, centred). Its type
  and severity are then compared with what the synthesis applied.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .grounding.describers import ADJECTIVES, phrase

SEVERITIES = tuple(ADJECTIVES)  # slight, moderate, severe


def _rows(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{what} must be shaped (N, D), got {x.shape}")
    return x


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def prompt_agreement(predicted: np.ndarray, target: np.ndarray, mean: np.ndarray) -> dict:
    """How close predicted embeddings ``(N, D)`` come to their targets ``(N, D)``.

    ``mean`` ``(D,)``: the training targets' mean (the constant a collapsed prompt predicts).
    Returns mean ``cosine`` and ``cosine_of_mean`` (the constant mean's cosine to the same
    targets), ``centred_cosine`` (``predicted - mean`` vs ``target - mean``), ``r2`` (1 -
    squared error / the mean predictor's squared error) and ``spread_ratio``.
    """
    p, t = _rows(predicted, "predicted"), _rows(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"predicted {p.shape} and target {t.shape} must have the same shape")
    m = np.asarray(mean, np.float64).reshape(1, -1)
    if m.shape[1] != p.shape[1]:
        raise ValueError(f"mean must be ({p.shape[1]},), got {np.shape(mean)}")
    cos = (_unit(p) * _unit(t)).sum(-1)
    cos_mean = (_unit(m) * _unit(t)).sum(-1)
    centred = (_unit(p - m) * _unit(t - m)).sum(-1)
    r2 = 1.0 - ((p - t) ** 2).sum() / max(((t - m) ** 2).sum(), 1e-12)
    spread = float(p.std(0).mean() / max(t.std(0).mean(), 1e-12))
    return {"cosine": float(cos.mean()), "cosine_of_mean": float(cos_mean.mean()),
            "centred_cosine": float(centred.mean()), "r2": float(r2), "spread_ratio": spread}


def description_prototypes(encoder, labels: Sequence[str], phrasings: int = 24,
                           seed: int = 0) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Mean embedding of ``phrasings`` descriptions of each (label, severity).

    Returns ``(prototypes (len(labels) * 3, D), keys [(label, severity), ...])``.
    """
    if phrasings < 1:
        raise ValueError(f"phrasings must be >= 1, got {phrasings}")
    rng = np.random.default_rng(seed)
    keys = [(label, sev) for label in labels for sev in SEVERITIES]
    sentences = [phrase({label: sev}, rng) for label, sev in keys for _ in range(phrasings)]
    emb = np.asarray(encoder.encode(sentences), np.float64)  # (K * phrasings, D)
    return emb.reshape(len(keys), phrasings, -1).mean(1), keys


def nearest_description(embeddings: np.ndarray, prototypes: np.ndarray,
                        keys: Sequence[tuple[str, str]], mean: np.ndarray) -> list[tuple[str, str]]:
    """The (label, severity) of the nearest prototype to each embedding, by cosine after
    subtracting ``mean`` from both (the shared part of all descriptions)."""
    e = _unit(_rows(embeddings, "embeddings") - np.asarray(mean, np.float64))
    p = _unit(_rows(prototypes, "prototypes") - np.asarray(mean, np.float64))
    return [tuple(keys[i]) for i in np.argmax(e @ p.T, axis=1)]


def naming_accuracy(named: Sequence[tuple[str, str]], truth: Sequence[tuple[str, str]]) -> dict:
    """Share of frames whose ``type`` is right, whose ``severity`` is right (whatever the type)
    and whose pair is right (``both``)."""
    if len(named) != len(truth) or not named:
        raise ValueError(f"need equally many, and some, names and truths: {len(named)} vs "
                         f"{len(truth)}")
    t = np.mean([a[0] == b[0] for a, b in zip(named, truth)])
    s = np.mean([a[1] == b[1] for a, b in zip(named, truth)])
    both = np.mean([tuple(a) == tuple(b) for a, b in zip(named, truth)])
    return {"type": float(t), "severity": float(s), "both": float(both)}
