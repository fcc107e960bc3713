"""voltgate pulse: an owner automation app built only on `voltgate.sdk` and public APIs (the
Tesla dialect, its live vehicle stream, OAuth). It imports nothing else of voltgate, so it can
run against any voltgate deployment (tests/pulse/test_isolation.py holds it to that)."""
