"""Data for training and evaluation: label formats, datasets, a feature cache, a synthetic benchmark.

- :mod:`engine.data.formats`: readers and writers of weak/strong TSV, DCASE 2017 Task 4,
  AudioSet segment lists, Audacity labels.
- :mod:`engine.data.datasets`: :func:`load_dataset` (DESED-style, DCASE 2017, AudioSet) ->
  :class:`Dataset` (classes, items, problems).
- :mod:`engine.data.cache`: :class:`FeatureCache` (log-mel per clip on disk),
  :class:`ClipFeatureSet` (fixed-length crops as tensors), :func:`feature_stats`.
- :mod:`engine.data.synth`: the synthetic transient-event benchmark (``mmnet synth``).

The cache names (which import torch) load on first use, so that ``mmnet synth`` and label
file tools start quickly.
"""
from __future__ import annotations

from .datasets import Dataset, Item, dataset_splits, detect_format, load_dataset, stratified_holdout
from .formats import (
    DatasetError,
    read_audacity_labels,
    read_strong_tsv,
    read_weak_tsv,
    write_audacity_labels,
    write_strong_tsv,
    write_weak_tsv,
)

_LAZY = {"FeatureCache", "ClipFeatureSet", "feature_stats"}

__all__ = [
    "ClipFeatureSet", "Dataset", "DatasetError", "FeatureCache", "Item", "dataset_splits", "detect_format",
    "feature_stats",
    "load_dataset", "read_audacity_labels", "read_strong_tsv", "read_weak_tsv", "stratified_holdout",
    "write_audacity_labels", "write_strong_tsv", "write_weak_tsv",
]


def __getattr__(name: str):
    if name in _LAZY:
        from . import cache

        return getattr(cache, name)
    raise AttributeError(f"module 'engine.data' has no attribute {name!r}")
