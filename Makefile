# Thin wrappers; tasks.py does the work so that a machine with only Python needs no make.
PY ?= python3
.PHONY: setup demo test ui
setup: ; $(PY) tasks.py setup
demo: ; $(PY) tasks.py demo
test: ; $(PY) tasks.py test
ui: ; $(PY) tasks.py ui
