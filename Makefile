# ecg2d: `make run` runs the workflow, `make test` runs the test suite (lint gates included).
# Both create the virtual environment .venv on first use.

PYTHON ?= python3
VENV ?= .venv
CORES ?= all
# A local copy of mitdb: DATA_DIR=/path/to/mitdb. Unset, ../shared/data/mitdb is used where it
# exists, and otherwise the records are downloaded from PhysioNet into resources/mitdb/.
DATA_DIR ?= $(if $(wildcard ../shared/data/mitdb/RECORDS),../shared/data/mitdb,)
SMK_ARGS ?=
BIN := $(VENV)/bin
CONFIG_ARGS := $(if $(DATA_DIR),--config data_dir=$(abspath $(DATA_DIR)),)

.PHONY: venv run dryrun dag report slurm test lint format bench clean

# The pinned tools and, editable, the ecg2d package itself (pyproject.toml): importable from any
# working directory, as the workflow needs when another workflow uses it as a `module`.
$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e .
	touch $@

venv: $(BIN)/.installed

run: venv
	$(BIN)/snakemake --cores $(CORES) $(CONFIG_ARGS) $(SMK_ARGS)

dryrun: venv
	$(BIN)/snakemake -n $(CONFIG_ARGS) $(SMK_ARGS)

# HTML report of a finished run (headline figures beside the published anchors, beat counts,
# example beats, training curves, confusion matrices, metrics tables, galleries of confusions):
# report.html. report/report.css keeps the top of figures taller than the window in view.
report: venv
	$(BIN)/snakemake --report report.html --report-stylesheet $(CURDIR)/report/report.css \
		$(CONFIG_ARGS) $(SMK_ARGS)

# The workflow on a SLURM cluster, from its login node (edit profiles/slurm/profile.yaml first:
# partition, account). SMK_ARGS="--sdm conda" runs each rule in its envs/ environment.
slurm: venv
	$(BIN)/snakemake --workflow-profile profiles/slurm $(CONFIG_ARGS) $(SMK_ARGS)

dag: venv
	$(BIN)/snakemake --rulegraph dot $(CONFIG_ARGS) | dot -Tsvg > rulegraph.svg
	$(BIN)/snakemake --dag dot $(CONFIG_ARGS) $(SMK_ARGS) | dot -Tsvg > dag.svg

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint $(CONFIG_ARGS)

# The quick benchmarks (results go to BENCHMARKS.md by hand; see bench/ for the long ones).
bench: venv
	$(BIN)/python bench/render_bench.py $(if $(DATA_DIR),--data-dir $(DATA_DIR),)
	$(BIN)/python bench/dag_scale.py --records 1000

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile rules

clean:
	rm -rf results logs .snakemake
