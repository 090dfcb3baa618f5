# The serving-mode benchmark matrix (benchmarks/matrix/) and the request-path profile
# (benchmarks/profile.py): docs/benchmarks.md explains both.

.PHONY: bench-matrix bench-report bench-goals profile

BENCH_ARGS ?= --rounds 3 --duration 5

bench-matrix: venv ## Run the serving-mode matrix (~40 min, loopback only), then its report
	$(PY) -m benchmarks.matrix.run $(BENCH_ARGS) --out benchmarks/results/latest
	$(PY) -m benchmarks.matrix.report benchmarks/results/latest

bench-report: venv ## Rebuild summary.md and matrix.png of benchmarks/results/latest
	$(PY) -m benchmarks.matrix.report benchmarks/results/latest

PROFILE_LABEL ?= latest

profile: venv ## Flame graphs of /db, /json, /api/items/<id> under wrk (~2 min): docs/profiles/$(PROFILE_LABEL)*
	$(PY) -m benchmarks.profile --label $(PROFILE_LABEL)

# The commit before the lean request path (issue 9): its gunicorn-gevent is "before".
BENCH_BEFORE ?= 5c79fd4
GOALS_CELLS := db@64,json@64,item@64,db_sleep@256,sleep@1000
GOALS_MODES := gunicorn-gevent,gunicorn-gevent-metrics-off,raw-wsgi-gevent

bench-goals: venv ## The request-path goals in one interleaved run (~8 min): benchmarks/results/goals/goals.md
	$(PY) -m benchmarks.matrix.run --rounds 3 --duration 4 --no-cooperative-io --all-up \
	  --modes $(GOALS_MODES) --cells $(GOALS_CELLS) --baseline-ref $(BENCH_BEFORE) \
	  --out benchmarks/results/goals
	$(PY) -m benchmarks.matrix.goals benchmarks/results/goals
