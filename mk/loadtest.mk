# Load tests against the running stack (docs/loadtesting.md). Every setting is an environment
# or make variable: make loadtest SCENARIO=stress START_RATE=100 STEP_RATE=100 BASE_URL=...
# Results: loadtest/results/<UTC timestamp>-<scenario>/report.md (+ PNGs).

SCENARIO ?= load
LOADTEST := $(PY) -m loadtest.report

.PHONY: loadtest loadtest-smoke locust loadtest-report loadtest-native-stack

loadtest: venv ## Run k6 SCENARIO (smoke|load|stress|spike|soak) against the stack, then report
	$(LOADTEST) run k6 $(SCENARIO)

loadtest-smoke: venv ## A few seconds of the whole k6 mix against the stack, then report
	$(LOADTEST) run k6 smoke

locust: venv ## Run the locust step load (headless, CSV + HTML) against the stack, then report
	$(LOADTEST) run locust

loadtest-report: venv ## Rebuild report.md and the PNGs of a results directory: DIR=loadtest/results/...
	@test -n "$(DIR)" || { echo "usage: make loadtest-report DIR=loadtest/results/<run>"; exit 2; }
	$(LOADTEST) build $(DIR)

loadtest-native-stack: venv ## PostgreSQL + API + Prometheus without Docker, to load test (Ctrl-C stops)
	$(PY) -m testkit.native_stack
