# The capacity planner (loadtest/plan/; docs/capacity.md explains the model and every setting).
#   make plan TARGET_RPS=200 P99_MS=250                     # measures on a throwaway stack first
#   make plan TARGET_RPS=200 P99_MS=250 RUN=loadtest/results/<run> VERIFY=1

.PHONY: plan

plan: venv ## Size replicas, workers, pools for TARGET_RPS at P99_MS from measurements (VERIFY=1: prove it)
	$(PY) -m loadtest.plan
