# The stack on Docker Swarm (scripts/swarm; docs/deployment.md, "Docker Swarm").
#   make swarm-up | make swarm-scale N=4 | make swarm-rollout API_IMAGE=... | make swarm-down [VOLUMES=1]

.PHONY: swarm-up swarm-scale swarm-rollout swarm-down swarm-status

swarm-up: venv ## Deploy the stack to Docker Swarm (init a single-node Swarm if there is none)
	scripts/swarm up

swarm-scale: ## Run N API tasks on Swarm (make swarm-scale N=4)
	@test -n "$(N)" || { echo "usage: make swarm-scale N=4" >&2; exit 2; }
	scripts/swarm scale $(N)

swarm-rollout: venv ## Roll the Swarm API out to API_IMAGE, one task at a time, rolled back if unhealthy
	scripts/swarm rollout

swarm-down: ## Remove the Swarm stack (VOLUMES=1: and its data); leave the Swarm if swarm-up made it
	scripts/swarm down

swarm-status: ## The Swarm stack's services and tasks
	scripts/swarm status

.PHONY: swarm-multinode-test

swarm-multinode-test: venv ## Three Docker-in-Docker Swarm nodes: stack spread, a node drained under load (slow)
	SWARM_MULTINODE=1 $(PY) -m pytest -v tests/swarm_multinode
