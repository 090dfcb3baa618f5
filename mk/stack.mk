# The Compose stack (docker-compose.yml); docs/deployment.md explains it.
#   make up | make scale N=3 | make ps | make logs [S=api] | make down | make build

COMPOSE ?= docker compose
S ?=

.PHONY: up down scale ps logs build

up: ## Start the stack and wait until healthy (without Grafana where its image cannot be had)
	@if $(COMPOSE) config --images grafana | xargs docker image inspect >/dev/null 2>&1 \
	    || timeout 60 $(COMPOSE) pull --quiet grafana >/dev/null 2>&1; then \
	  $(COMPOSE) up -d --wait; \
	else \
	  echo "Grafana's image can be neither found nor pulled here: starting the stack without it"; \
	  $(COMPOSE) up -d --wait $$($(COMPOSE) config --services | grep -vx grafana); \
	fi

down: ## Stop the stack and delete its containers and network (volumes are kept)
	$(COMPOSE) down

scale: ## Run N API replicas (make scale N=3); nginx and Prometheus follow within seconds
	@test -n "$(N)" || { echo "usage: make scale N=3" >&2; exit 2; }
	@# Stopped replicas count as replicas to Compose: scaling down would remove running ones.
	$(COMPOSE) rm --force api
	$(COMPOSE) up -d --no-deps --wait --scale api=$(N) api

ps: ## List the stack's containers and their health
	$(COMPOSE) ps

logs: ## Follow the logs (make logs S=nginx for one service)
	$(COMPOSE) logs -f --tail=100 $(S)

build: ## Build the API image
	$(COMPOSE) build
