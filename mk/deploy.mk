# Rolling deploy of the API on Compose (scripts/deploy; docs/deployment.md, "Rolling deploys").

.PHONY: deploy

deploy: ## Replace every API container with a freshly built image, failing no request
	scripts/deploy
