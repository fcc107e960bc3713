"""Benchmarks of voltgate's hot paths (later beside its peers) on 127.0.0.1: `python -m bench`."""
