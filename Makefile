# mcms-infra: the two commands are `make run` and `make test`; both set up what
# is missing first. Everything else is here for people working on the project.
#
#   make run [ENV=sim|lab|stage|prod] [ARGS="--limit web01 --check"] [PROFILE=1]
#   make test                  every stage (lint, unit, oldest, playbooks, molecule)
#   make setup                 only install the pinned toolchains (.venv, .venv-oldest)
#   make lint | unit | oldest | playbooks | molecule [SCENARIO=iis]
#   make bench [BENCH_ARGS=...] round trips per host and wall time, 1-8 simulated web nodes
#   make wheelhouse            download every pinned wheel for air-gapped controllers
#   make lock                  re-resolve requirements/*.in into hash-pinned *.txt
#   make changelog [VERSION=x.y.z]  render CHANGELOG.md from changelogs/fragments
#   make clean                 remove the venvs, simulated host state and caches

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

ENV ?= sim
ARGS ?=
PROFILE ?=
SCENARIO ?=
# The real site.yml on N simulated web nodes with the sim inventory's variables.
BENCH_ARGS ?= --lab inventories/sim --hosts 1,2,4,8
# Release version of CHANGELOG.md: the in-repo collections' version.
VERSION ?= $(shell sed -n 's/^version: *//p' collections/ansible_collections/mcms/infra/galaxy.yml)

VENV := .venv
BIN := $(VENV)/bin
INVENTORY := inventories/$(ENV)

# Per-task timing on demand (ansible.posix.profile_tasks).
ifneq ($(PROFILE),)
RUN_ENV := ANSIBLE_CALLBACKS_ENABLED=ansible.posix.timer,ansible.posix.profile_tasks
endif

.PHONY: help setup setup-newest setup-oldest run test lint unit oldest playbooks molecule bench \
        wheelhouse lock changelog clean drift

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: setup-newest setup-oldest ## Install both pinned toolchains (idempotent, fast when done)

setup-newest:
	@scripts/setup.sh newest

setup-oldest:
	@scripts/setup.sh oldest

run: setup-newest ## Converge inventories/$(ENV) with site.yml (default: the simulated lab)
	@test -d "$(INVENTORY)" || { echo "ERROR: no inventory $(INVENTORY) (ENV=$(ENV)); have: $$(ls inventories)" >&2; exit 2; }
	$(RUN_ENV) $(BIN)/ansible-playbook site.yml -i $(INVENTORY) $(ARGS)

test: setup ## Run every test stage and print a summary
	@scripts/test.sh

lint: setup-newest ## ansible-lint, yamllint, ruff, changelog lint
	@scripts/test.sh lint

unit: setup-newest ## Unit tests on the newest toolchain
	@scripts/test.sh unit

oldest: setup ## Unit tests + a simulated site.yml converge on ansible-core 2.19
	@scripts/test.sh oldest

playbooks: setup ## Playbook tests against the simulated lab, winsim integration on both toolchains
	@scripts/test.sh playbooks

molecule: setup-newest ## Every Molecule scenario, or one: make molecule SCENARIO=iis
	@SCENARIO="$(SCENARIO)" scripts/test.sh molecule

drift: setup-newest ## Drift check of inventories/$(ENV): exit 0 clean, 3 drift, 4 errors (docs/drift-check.md)
	@$(BIN)/python bin/mcms-drift-check --env $(ENV) $(if $(ARGS),-- $(ARGS))

bench: setup-newest ## Benchmark (not a test): round trips per host and wall time vs host count
	$(BIN)/python bench/run.py $(BENCH_ARGS)

wheelhouse: ## Download every pinned wheel into wheelhouse/ (needs the package index)
	@scripts/wheelhouse.sh

lock: ## Re-resolve requirements/*.in into hash-pinned lock files (needs the package index)
	@scripts/lock.sh

changelog: setup-newest ## Render CHANGELOG.md from changelogs/fragments (VERSION=x.y.z)
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog release --version $(VERSION) --update-existing

clean: ## Remove the venvs, the simulated hosts' state and caches (keeps wheelhouse/)
	rm -rf .venv .venv-oldest .winsim .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './wheelhouse/*' -prune -exec rm -rf {} +
