"""Benchmarks for issue 5: search and lookup speed at scale, against baselines, in one run.

Run from the repository root: ``python -m bench`` (``--smoke`` for a quick check). See
``bench/RESULTS.md``.
"""
