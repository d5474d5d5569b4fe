"""Benchmarks behind `make bench-*`: each re-runs and writes bench/results/<name>.json (see __main__)."""
