"""Benchmark results in the Compare tab: systems over training seeds from a comparison-results
file (engine/comparison.py). ``BenchmarkView`` is the page; ``table`` and ``chart`` draw it."""
