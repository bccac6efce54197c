"""Drift of the features a kept model sees: the population stability index (PSI) of each
feature's recent distribution against the training rows'.

Bins are the training deciles (ties merged) plus one bin for missing values; PSI =
Σ (recent − train) × ln(recent / train) over bins, each share floored at 0.0001. The common
reading: below 0.1 stable, 0.1–0.25 moving, ``DRIFT_PSI`` (0.25) and above drifted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from banso.prediction.features import Rows

DRIFT_PSI = 0.25
MOVING_PSI = 0.1
FLOOR = 1e-4


def reference(rows: Rows) -> dict[str, Any]:
    """Per feature: inner bin edges (training deciles) and the training share of each bin."""
    out = {}
    for i, name in enumerate(rows.names):
        values = rows.x[:, i]
        present = values[~np.isnan(values)]
        edges = (
            sorted(set(np.quantile(present, np.linspace(0.1, 0.9, 9)).tolist()))
            if len(present)
            else []
        )
        out[name] = {"edges": edges, "shares": shares(values, edges).tolist()}
    return out


def shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Share of values in each bin: ``len(edges) + 1`` value bins, then missing."""
    n = len(values)
    counts = np.zeros(len(edges) + 2)
    missing = np.isnan(values)
    counts[-1] = missing.sum()
    which = np.searchsorted(np.array(edges), values[~missing], side="right")
    np.add.at(counts, which, 1)
    return counts / n if n else counts


def psi(train: np.ndarray, recent: np.ndarray) -> float:
    a = np.maximum(train, FLOOR)
    b = np.maximum(recent, FLOOR)
    return float(np.sum((b - a) * np.log(b / a)))


def feature_drift(ref: dict[str, Any], recent: Rows) -> list[dict[str, Any]]:
    """PSI of every feature, largest first (None without recent rows)."""
    out = []
    for i, name in enumerate(recent.names):
        r = ref.get(name)
        if r is None or recent.x.shape[0] == 0:
            out.append({"feature": name, "psi": None})
            continue
        now = shares(recent.x[:, i], r["edges"])
        out.append({"feature": name, "psi": psi(np.array(r["shares"]), now)})
    return sorted(out, key=lambda f: -(f["psi"] or 0.0))
