# Convenience aliases; dev.py does the work and needs only python3.
PY ?= python3
.PHONY: sandbox test bench lint
sandbox: ; $(PY) dev.py sandbox $(ARGS)
test: ; $(PY) dev.py test $(ARGS)
bench: ; $(PY) dev.py bench $(ARGS)
lint: ; $(PY) dev.py lint
