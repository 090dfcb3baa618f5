# The serving-mode benchmark matrix (benchmarks/matrix/): docs/benchmarks.md explains it.

.PHONY: bench-matrix bench-report

BENCH_ARGS ?= --rounds 3 --duration 5

bench-matrix: venv ## Run the serving-mode matrix (~40 min, loopback only), then its report
	$(PY) -m benchmarks.matrix.run $(BENCH_ARGS) --out benchmarks/results/latest
	$(PY) -m benchmarks.matrix.report benchmarks/results/latest

bench-report: venv ## Rebuild summary.md and matrix.png of benchmarks/results/latest
	$(PY) -m benchmarks.matrix.report benchmarks/results/latest
