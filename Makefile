# cqrs-ledger: run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock lambda_src/requirements.txt pyproject.toml | sha256sum | cut -c1-12)
ARCH ?= arm64
PATTERN ?= 2
FAULTS ?=
BENCH_FAULTS ?= throttle=15wcu,latency=3ms,dup=0.3,reorder=0.5,seed=7
BENCH_CRASH ?= crash=0.1
# Smaller runs of the same commands: BENCH_QUICK=1 measures each benchmark figure on a few records or
# requests; bench-sandbox and bench-report then record in BENCH_OUT, never in reports/. SOAK_TRANSACTIONS=n
# soaks n operations instead of 5,000, SOAK_PATTERN=1|2 one pattern of the two; PATCHES='"name" ...' checks
# only the patches named. make test's test-commands part runs them all (tests/commands).
BENCH_QUICK ?=
BENCH_OUT ?=
SOAK_TRANSACTIONS ?=
SOAK_PATTERN ?=
PATCHES ?=
bench_options = $(if $(BENCH_QUICK),--quick) $(if $(BENCH_OUT),--out "$(BENCH_OUT)")
soak_tests = $(if $(SOAK_TRANSACTIONS),CQRS_SOAK_TRANSACTIONS=$(SOAK_TRANSACTIONS)) \
	$(PY) -m pytest tests/integration -m soak -v $(if $(SOAK_PATTERN),-k pattern-$(SOAK_PATTERN))

# terraform init uses a local provider mirror when one exists (tools/terraformrc.sh), else the registry.
TF_RC := $(shell tools/terraformrc.sh .terraformrc.generated 2>/dev/null)
ifneq ($(TF_RC),)
export TF_CLI_CONFIG_FILE := $(TF_RC)
endif
# Terraform and its AWS provider are Go programs, and about 40% of make test's CPU is theirs. Their garbage
# collector runs when the heap has grown by GOGC percent: 400 rather than Go's 100 cuts terraform test's CPU by
# about a fifth, for about twice the memory (docs/testing.md). GOGC=100 in the environment restores Go's default.
GOGC ?= 400
export GOGC
MODULES := $(wildcard modules/*)
EXAMPLES := $(wildcard examples/*)
CHECKOV := .venv-checkov/bin/checkov
CHECKOV_LOCK := requirements-checkov.lock
CHECKOV_VERSION := $(shell sed -n 's/^checkov==\([^ ]*\).*/\1/p' $(CHECKOV_LOCK))
# Each check of make lint is its own target, so that .pre-commit-config.yaml runs the same commands.
LINT_PARTS := lint-terraform lint-validate lint-ruff lint-mypy lint-imports

.PHONY: help venv currencies contract docs package test test-unit test-templates test-terraform test-integration checkov check-patches lint bench \
        clean tf-init plan apply destroy demo sandbox soak bench-report bench-sandbox \
        integration-switch integration-soak2 java-deps $(LINT_PARTS) docs-check record-test-figures soak-guarded commit-messages \
        test-first-apply verify-aws lifecycle test-commands commands-report commands-others

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.lock lambda_src/requirements.txt
	@echo "==> virtual environment ($(PYTHON)), every package pinned by hash (requirements-dev.lock)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	@$(PY) -m pip install --quiet --no-deps -e .  # the ledger-ops console script (its dependencies are pinned above)
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP) ## Create .venv with the pinned tools

currencies: $(STAMP) ## Regenerate lambda_src/ledger_aggregator/currencies.json from ISO 4217 (the iso4217 package)
	@$(PY) tools/currencies.py

contract: $(STAMP) ## Render modules/api/contract.json into templates/generated/ and docs/openapi.yaml's schemas
	@$(PY) tools/contract.py

package: $(STAMP) ## Build dist/lambda.zip reproducibly (ARCH=arm64|x86_64)
	@$(PY) build.py --arch $(ARCH)

# The parts run side by side (tools/test_parts.py): the integration tier spends most of its time in
# the AWS provider's fixed waits (25 s per SQS queue, 5 s per function), while the others use the CPU.
# Its wall time bounds the run, so it is the critical part: it runs at normal priority and the others niced,
# filling the CPU it leaves idle rather than stretching its waits (alone it takes about 400 s, beside
# un-niced parts about 600 s). Not too nice: beside a CPU load, nice 10 starved them (docs/testing.md).
# The prerequisites several parts share (SHARED) are made once first; the parts then run with
# PREPARED=1, which drops them (unless_prepared), so that no two parts run terraform init at once. Each part's output is printed whole when it ends, and the run's
# figures go to .cache/make-test.json (make record-test-figures keeps a passing run for docs/testing.md).
# A record goes in the commit of the change it measures, never in a commit of its own: record-test-figures
# refuses a run of any commit but HEAD (HEAD+changes is the change not yet committed). FROM=<file> takes
# another clone's record, of the same commit.
TEST_PARTS := lint test-unit test-templates test-terraform checkov test-first-apply test-integration test-commands
SHARED := package tf-init java-deps
unless_prepared = $(if $(PREPARED),,$(1))

test: $(STAMP) ## Everything CI runs: every part below, side by side; fails if any part fails
	@PREPARED=1 $(PY) tools/test_parts.py run --prepare "$(SHARED)" --critical test-integration $(TEST_PARTS)

record-test-figures: $(STAMP) ## Keep the last passing make test's figures in reports/make-test.json and quote them in docs/testing.md
	@$(PY) tools/test_parts.py record $(FROM)
	@$(PY) tools/docs.py

# The local account renders mapping templates with Apache Velocity 1.7 in a JVM (local_account/velocity.py):
# Debian's packages, installed when missing (tools/java_deps.sh).
java-deps: $(STAMP) ## Install Velocity 1.7 and its jars (Debian packages) for the template renderer
	@tools/java_deps.sh

test-unit: $(STAMP) $(call unless_prepared,java-deps) ## Unit, property and handler tests, and the local account's and the harness's own (pytest, moto)
	@echo "==> unit tests"
	@$(PY) -m pytest tests/unit tests/local_account tests/harness

test-templates: $(STAMP) $(call unless_prepared,java-deps) ## Mapping templates rendered and executed against DynamoDB (moto); policy checks
	@echo "==> template and policy tests"
	@$(PY) -m pytest tests/templates tests/static

# The pattern-2 soak is bound by the summary table's injected capacity (time, not CPU), so it runs on a
# stack of its own beside the rest: pattern 1, the switch to pattern 2 on the same state, and every
# other test. The pattern-2 runs of the tests marked second_stack go with the soak, to even out the two
# sides: the access, recovery, hostile-client, balance-guard and events tests, the pattern-2 replays and
# planted-corruption rebuild of test_ops.py, and the switch back to pattern 1 (test_switch.py, the last test
# of its stack). The marker is on the test; pattern_2 on its pattern-2 run (tests/integration/conftest.py).
# Two local accounts on free ports; CQRS_TARGET=aws skips the soak (faults are local only).
SECOND_STACK := second_stack and pattern_2

test-integration: $(call unless_prepared,$(SHARED)) ## The stack in the local account (or CQRS_TARGET=aws), both patterns, with the soak test
	@$(MAKE) --no-print-directory -j2 --output-sync=target integration-switch integration-soak2

integration-switch:  # part of test-integration, which builds the zip and runs terraform init first
	@echo "==> integration tests: pattern 1, the switch, pattern 2 (target: $${CQRS_TARGET:-local})"
	@$(PY) -m pytest tests/integration -m "not ($(SECOND_STACK))" --durations=5

integration-soak2:  # part of test-integration
	@echo "==> integration tests: the pattern-2 soak, access, recovery, hostile-client, balance-guard and events tests and the switch to pattern 1 on a stack of their own (target: $${CQRS_TARGET:-local})"
	@$(PY) -m pytest tests/integration -m "$(SECOND_STACK)" --durations=5

# The first-apply acceptance suite (tests/first_apply): a throwaway stack with every option on, each check one
# verdict, always destroyed. make test runs it in the local account; verify-aws in the account of your AWS
# environment (docs/deploying.md: run it before the first apply of your own stack there).
test-first-apply: $(call unless_prepared,$(SHARED)) ## The first-apply acceptance suite in the local account (part of make test)
	@echo "==> first apply: every option on, one verdict per check (local account)"
	@CQRS_TARGET=local $(PY) -m pytest tests/first_apply

verify-aws: package tf-init ## The first-apply acceptance suite in a real AWS account (your AWS environment); destroys what it applied
	@echo "==> first apply: every option on, one verdict per check (AWS account of your environment)"
	@CQRS_TARGET=aws $(PY) -m pytest tests/first_apply -v

# Every command README shows runs in make test, at least in a quick form: this part runs those no other part
# runs (the same make targets with the smaller sizes above, pattern 1 where the command allows it) and fails
# when README shows a command that is neither run here nor by a part named in tests/commands. The parts'
# shared prerequisites are made by then, so the commands it runs skip them (PREPARED=1). bench-report's
# quick form takes the longest, waiting on its two pattern-2 applies (the AWS provider's SQS timers):
# it runs beside the others.
test-commands: $(call unless_prepared,$(SHARED)) ## README's commands in quick forms: demo, make sandbox, soak-guarded, the benchmarks, check-patches, help
	@PREPARED=1 $(MAKE) --no-print-directory -j2 --output-sync=target commands-report commands-others

commands-report:  # part of test-commands
	@echo "==> README's commands: make bench-report's quick form"
	@$(PY) -m pytest tests/commands -k test_make_bench_report --durations=0

commands-others:  # part of test-commands
	@echo "==> README's commands: every other quick form, and every command README shows run somewhere"
	@$(PY) -m pytest tests/commands -k "not test_make_bench_report" --durations=0

# Every transition of every option while writes keep coming (the lifecycle suite): make test runs the guard's
# off -> on cycle once per pattern, the events' off -> on -> off -> on and a change of Cognito grants once; this
# runs the guard's cycle three times in both patterns and the patterns' 2 -> 1 -> retire -> 2 too.
lifecycle: package tf-init java-deps ## The whole lifecycle suite: every option switched off and on again under load (about 15 minutes)
	@echo "==> lifecycle: every option switched off and on again while writes keep coming"
	@CQRS_LIFECYCLE=full $(PY) -m pytest tests/integration -k "test_guard or test_events_lifecycle or test_access or test_switch" --durations=5

soak: $(call unless_prepared,$(SHARED)) ## Soak test: 5,000 transactions per pattern with every fault on, then reconcile (SOAK_TRANSACTIONS=n, SOAK_PATTERN=1|2)
	@echo "==> soak test (local account, $(if $(SOAK_PATTERN),pattern $(SOAK_PATTERN),both patterns))"
	@$(soak_tests)

soak-guarded: $(call unless_prepared,$(SHARED)) ## The soak on a stack with the balance guard on; guard init then seeds every balance item exactly
	@echo "==> soak test with the balance guard on (local account, $(if $(SOAK_PATTERN),pattern $(SOAK_PATTERN),both patterns))"
	@CQRS_SOAK_GUARD=1 $(soak_tests)

tf-init:
	@terraform init -backend=false -input=false -test-directory=tests/terraform >/dev/null
	@for m in $(MODULES) $(EXAMPLES); do terraform -chdir=$$m init -backend=false -input=false >/dev/null || exit 1; done

test-terraform: $(call unless_prepared,tf-init) ## terraform test (mocked provider) of the root and every example; fmt and validate are in make lint
	@echo "==> terraform test"
	@terraform test -test-directory=tests/terraform -no-color
	@for e in $(EXAMPLES); do terraform -chdir=$$e test -no-color || exit 1; done

$(CHECKOV): $(CHECKOV_LOCK)
	@echo "==> checkov $(CHECKOV_VERSION) in .venv-checkov (every package pinned by hash: $(CHECKOV_LOCK))"
	@$(PYTHON) -m venv .venv-checkov
	@.venv-checkov/bin/pip install --quiet --require-hashes -r $(CHECKOV_LOCK)
	@touch $@

checkov: $(CHECKOV) ## Static security scan of the Terraform; fails on any failed check
	@echo "==> checkov"
	@mkdir -p .cache
	@# stderr holds only checkov's failed look-ups of its online guideline mappings (no network here).
	@$(CHECKOV) --directory . --framework terraform --quiet --compact --skip-path .venv --skip-path tests \
		--download-external-modules false 2>.cache/checkov.stderr

check-patches: $(STAMP) $(call unless_prepared,java-deps) ## Each patch of the local account's moto (or those in PATCHES), left out in turn: its test must fail (about 4 minutes)
	@$(PY) -m tools.check_patches $(PATCHES)

docs: $(STAMP) ## Regenerate the generated docs: module READMEs and root inputs/outputs from the .tf files, the quoted make test and bench-sandbox figures
	@$(PY) tools/docs.py

lint: $(LINT_PARTS) ## terraform fmt and validate, ruff, strict mypy and the import contracts (also run by pre-commit)

lint-terraform:
	@terraform fmt -check -recursive

lint-validate: $(call unless_prepared,tf-init)  # terraform validate of the root, every module and every example
	@terraform validate -no-color >/dev/null && echo "root: valid"
	@for m in $(MODULES) $(EXAMPLES); do terraform -chdir=$$m validate -no-color >/dev/null && echo "$$m: valid" || exit 1; done

lint-ruff: $(STAMP)
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .

lint-mypy: $(STAMP)
	@$(PY) -m mypy

lint-imports: $(STAMP)  # the contracts in pyproject.toml: the core imports no AWS library, dependencies point inward
	@set -o pipefail; $(VENV)/bin/lint-imports --no-cache | tail -n 13

# Commit subjects of 72 characters or fewer, a blank line before a body: pre-commit's commit-msg hook checks
# each new commit (.pre-commit-config.yaml), and this a branch's commits not yet in SINCE, before a merge.
# History that has landed is not checked: it cannot be rewritten.
SINCE ?= main
commit-messages: ## A branch's commits not yet in SINCE (default main): subjects of 72 characters or fewer, then a blank line
	@$(PYTHON) tools/commit_msg.py --range $(SINCE)..HEAD

docs-check: $(STAMP)  # the Markdown links and the generated Terraform docs (also part of make test)
	@$(PY) -m pytest -q tests/static/test_docs.py

bench: $(STAMP) ## Aggregator benchmarks (prints figures; not a test; BENCH_QUICK=1 on fewer records)
	@$(PY) -m bench.aggregator $(if $(BENCH_QUICK),--quick)

# bench-sandbox measures the working tree and writes reports/bench-sandbox.json at once: commit the record
# with the change it measures, not on its own.
bench-sandbox: $(call unless_prepared,$(SHARED)) ## The local account's speed, recorded in reports/ and quoted in docs/local-account.md (BASELINE=rev to compare; BENCH_QUICK=1 BENCH_OUT=dir)
	@$(PY) -m bench.account_speed $(if $(BASELINE),--baseline $(BASELINE)) $(bench_options)
	@$(if $(BENCH_OUT),,$(PY) tools/docs.py)

demo: $(call unless_prepared,$(SHARED)) ## The whole stack in the local account (python -m harness demo): apply, post, check summaries, destroy (PATTERN=1|2)
	@$(PY) -m harness demo --pattern $(PATTERN) --faults "$(FAULTS)"

sandbox: $(call unless_prepared,$(SHARED)) ## The stack in the local account, up until Ctrl-C (python -m harness up); writes .sandbox/outputs.json (PATTERN=1|2)
	@$(PY) -m harness up --pattern $(PATTERN) --faults "$(FAULTS)"

plan: package tf-init ## terraform plan PATTERN=1|2 against the account in your AWS environment
	@terraform plan -var pattern=$(PATTERN)

apply: package tf-init ## terraform apply PATTERN=1|2 (pattern 1 keeps pattern 2's buffer draining; see docs/operations.md)
	@terraform apply -var pattern=$(PATTERN)

destroy: tf-init ## terraform destroy
	@terraform destroy -var pattern=$(PATTERN)

clean: ## Remove build outputs and caches
	rm -rf dist .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis .terraform modules/*/.terraform

bench-report: $(call unless_prepared,$(SHARED)) ## Patterns 1 and 2 and the naive baseline under one contended burst, then 1 and 2 with crashes, then the balance guard and the balance events: reports/ (BENCH_QUICK=1 BENCH_OUT=dir)
	@$(PY) -m bench.report --faults "$(BENCH_FAULTS)" --crash "$(BENCH_CRASH)" $(bench_options)
