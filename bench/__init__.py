"""Benchmarks of the realtime hub and the capabilities built on it (``python -m bench <name>``).

Everything runs on 127.0.0.1 against real ``plenary serve`` processes and a real Redis; the load
comes from separate client processes. See ``bench/README.md`` for what each figure means.
"""
