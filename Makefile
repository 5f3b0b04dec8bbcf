# Two commands matter: `make run` and `make test`. Both create .venv from
# the pins in pyproject.toml (and constraints.txt) on first use.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= 2
CONFIG ?= config/config.yaml

.PHONY: run report uncertainty-mc test test-fast env snapshot quick lint unlock slurm-profile slurm-test bench bench-campaign readme-numbers notebook clean

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --profile profiles/local --configfile $(CONFIG) --cores $(CORES)
	$(MAKE) report

# One self-contained HTML page of the campaign (Snakemake's report): opens
# offline in any browser. RESULTS follows the config's results_dir.
RESULTS ?= $(shell $(BIN)/python -c "import yaml,sys; print((yaml.safe_load(open('$(CONFIG)')) or {}).get('results_dir', 'results'))" 2>/dev/null || echo results)
report: $(STAMP)
	$(BIN)/snakemake --profile profiles/local --configfile $(CONFIG) --report $(RESULTS)/report.html
	@echo "report: $(RESULTS)/report.html"
	$(BIN)/python scripts/check_report.py $(RESULTS)/report.html

# The Monte-Carlo check of the Kcrit intervals (opt-in; docs/science.md).
uncertainty-mc: $(STAMP)
	$(BIN)/snakemake --profile profiles/local --configfile $(CONFIG) --cores $(CORES) $(RESULTS)/uncertainty/mc_coverage.tsv

quick: $(STAMP)
	$(BIN)/snakemake --profile profiles/local --configfile config/quick.yaml --cores $(CORES)
	$(MAKE) report CONFIG=config/quick.yaml

# The only way the workflow rebuilds a committed snapshot (build_snapshot: true
# defines the rule; workflow/rules/data.smk).
snapshot: $(STAMP)
	$(BIN)/snakemake data/mp_offline.parquet --config build_snapshot=True --forcerun build_snapshot --profile profiles/local --configfile $(CONFIG) --cores $(CORES)

test: $(STAMP)
	$(BIN)/python -m pytest
	$(MAKE) slurm-test

# The quick loop: no Snakemake campaigns, no pymatgen reference runs, no SLURM.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not slurm"

# `snakemake --profile slurm` looks for a profile named slurm in
# ~/.config/snakemake (or $XDG_CONFIG_HOME/snakemake) and /etc/xdg/snakemake.
# This copies profiles/slurm there once; a profile of that name that is
# already there (a site's or your own) is never overwritten.
SNAKEMAKE_PROFILES ?= $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/snakemake
slurm-profile:
	@if [ -e "$(SNAKEMAKE_PROFILES)/slurm" ]; then \
		echo "$(SNAKEMAKE_PROFILES)/slurm exists; left unchanged (remove it to install ours)"; \
	else \
		mkdir -p "$(SNAKEMAKE_PROFILES)" && cp -R profiles/slurm "$(SNAKEMAKE_PROFILES)/slurm" && \
		echo "installed profiles/slurm as $(SNAKEMAKE_PROFILES)/slurm: run snakemake --profile slurm"; \
	fi

slurm-test: $(STAMP)
	bash scripts/slurm_test.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint --configfile $(CONFIG)

# After a hard kill (kill -9, power loss) Snakemake keeps its lock and refuses
# to run; this releases it. Finished outputs are kept.
unlock: $(STAMP)
	$(BIN)/snakemake --unlock --profile profiles/local --configfile $(CONFIG)

# Re-run the tour in place after a change of numbers: its outputs are committed
# (tests/test_notebook.py runs it in a fresh kernel in CI).
notebook: $(STAMP)
	cd examples && ../$(BIN)/jupyter-execute --inplace constrict_tour.ipynb

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_interfaces.py

bench-campaign: $(STAMP)
	$(BIN)/python benchmarks/bench_campaign.py --cores $(CORES)

readme-numbers: $(STAMP)
	$(BIN)/python benchmarks/readme_numbers.py

# docs/reference.md, every config key and output column, generated from workflow/schemas/.
.PHONY: reference
reference: $(STAMP)
	$(BIN)/python -m constrict.campaign.reference

clean:
	rm -rf results logs .snakemake
