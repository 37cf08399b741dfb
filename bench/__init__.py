"""Benchmarks that print figures (bench/README.md, docs/PERFORMANCE.md)."""
