# Two commands do all the set-up on a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The real dataset for offline runs; without it the loader downloads (and caches) the UCI copy.
AMLPIPE_DATA ?= $(wildcard $(CURDIR)/../shared/data/heart_failure_clinical_records_dataset.csv)
export AMLPIPE_DATA
# Test files on two processes (one per core here), each file's tests in one of them: the
# slow ones wait on kernels and servers much of the time. Serial: make test PYTEST_ARGS=-n0
PYTEST_ARGS ?= -n 2 --dist loadfile --durations=15

.PHONY: run test venv clean

venv: $(STAMP)

# azureml-train-automl-client 1.62 requires Python < 3.12.
$(PY):
	@py=""; \
	for c in python3.11 python3.10 python3.9 python3; do \
	  if command -v $$c >/dev/null 2>&1 && \
	     $$c -c 'import sys; sys.exit(not ((3, 9) <= sys.version_info[:2] <= (3, 11)))'; then \
	    py=$$c; break; \
	  fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "error: amlpipe needs Python 3.9-3.11 (azureml-train-automl-client 1.62 requires < 3.12);" \
	       "found $$(python3 --version 2>&1 || echo 'no python3')" >&2; \
	  exit 1; \
	fi; \
	echo "creating $(VENV) with $$($$py --version)"; \
	$$py -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/amlpipe run --budget-minutes 1

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .amlpipe runs
