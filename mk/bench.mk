# The serving-mode benchmark matrix (benchmarks/matrix/) and the request-path profile
# (benchmarks/profile.py): docs/benchmarks.md explains both.

.PHONY: bench-matrix bench-report profile

BENCH_ARGS ?= --rounds 3 --duration 5

bench-matrix: venv ## Run the serving-mode matrix (~40 min, loopback only), then its report
	$(PY) -m benchmarks.matrix.run $(BENCH_ARGS) --out benchmarks/results/latest
	$(PY) -m benchmarks.matrix.report benchmarks/results/latest

bench-report: venv ## Rebuild summary.md and matrix.png of benchmarks/results/latest
	$(PY) -m benchmarks.matrix.report benchmarks/results/latest

PROFILE_LABEL ?= latest

profile: venv ## Flame graphs of /db, /json, /api/items/<id> under wrk (~2 min): docs/profiles/$(PROFILE_LABEL)*
	$(PY) -m benchmarks.profile --label $(PROFILE_LABEL)
