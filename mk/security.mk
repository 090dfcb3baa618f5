# TLS at the edge (deploy/tls/; docs/security.md, "TLS at the edge").
#   make certs [CERT_NAMES="api.example.test 192.0.2.10"]   # then the TLS overlay, see below

CERTS_DIR ?= deploy/tls/certs
CERT_NAMES ?=

.PHONY: certs

certs: ## A local CA and a certificate for localhost (+ CERT_NAMES) in deploy/tls/certs/, for TLS in development
	scripts/make-certs $(CERTS_DIR) $(CERT_NAMES)
	@echo "TLS on: docker compose -f docker-compose.yml -f deploy/tls/compose.tls.yml up -d --wait"
