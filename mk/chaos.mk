# The fault suite (tests/chaos/): a fresh Compose stack of three replicas, each fault injected
# under mixed load, the results as a table (docs/reliability.md explains them) and as JSON.

.PHONY: chaos

chaos: venv ## Run the fault suite alone (~5 min) and print its table; JSON in tests/chaos/results/
	$(PY) -m pytest -m chaos -p no:cacheprovider tests/chaos
