# Observability: Prometheus rules and Grafana dashboards as code (docs/observability.md).
# Included by the root Makefile (-include mk/*.mk).

PROMETHEUS_URL ?=
DASHBOARDS_SINCE ?= 15m
DASHBOARDS_PNG_DIR ?= docs/img

.PHONY: rules-check dashboards dashboards-check dashboards-png

rules-check: ## promtool: check the Prometheus config and rules, run the rule unit tests
	promtool check config deploy/prometheus/prometheus.yml
	promtool check rules deploy/prometheus/rules/*.rules.yml
	promtool test rules deploy/prometheus/tests/*.test.yml

dashboards: venv ## Regenerate deploy/grafana/dashboards/*.json from dashboards_src/
	$(PY) -m deploy.grafana.dashboards_src.generate

dashboards-check: venv ## Fail if the committed dashboard JSON is stale; lint and schema checks
	$(PY) -m deploy.grafana.dashboards_src.generate --check
	$(PY) -m pytest -q deploy/grafana/tests/test_dashboards.py

dashboards-png: venv ## Render every dashboard to PNG (PROMETHEUS_URL=… for a running stack; else a ~1 min overload run)
	$(if $(PROMETHEUS_URL),\
	  $(PY) -m deploy.grafana.render --prometheus $(PROMETHEUS_URL) --since $(DASHBOARDS_SINCE) --out $(DASHBOARDS_PNG_DIR),\
	  $(PY) -m deploy.grafana.render --demo --out $(DASHBOARDS_PNG_DIR))
