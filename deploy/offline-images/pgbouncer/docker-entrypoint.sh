#!/bin/bash
# Render /run/pgbouncer/pgbouncer.ini and its userlist from the environment, then run CMD.
set -euo pipefail

: "${PGBOUNCER_USER:?set PGBOUNCER_USER: the role the clients log in as}"
if [ -n "${PGBOUNCER_PASSWORD_FILE:-}" ]; then
  PGBOUNCER_PASSWORD=$(<"$PGBOUNCER_PASSWORD_FILE")
fi
: "${PGBOUNCER_PASSWORD:?set PGBOUNCER_PASSWORD or PGBOUNCER_PASSWORD_FILE}"

export PGBOUNCER_USER \
  PGBOUNCER_LISTEN_ADDR=${PGBOUNCER_LISTEN_ADDR:-0.0.0.0} \
  PGBOUNCER_LISTEN_PORT=${PGBOUNCER_LISTEN_PORT:-6432} \
  PGBOUNCER_DB_HOST=${PGBOUNCER_DB_HOST:-db} \
  PGBOUNCER_DB_PORT=${PGBOUNCER_DB_PORT:-5432} \
  PGBOUNCER_POOL_MODE=${PGBOUNCER_POOL_MODE:-transaction} \
  PGBOUNCER_MAX_CLIENT_CONN=${PGBOUNCER_MAX_CLIENT_CONN:-1000} \
  PGBOUNCER_DEFAULT_POOL_SIZE=${PGBOUNCER_DEFAULT_POOL_SIZE:-20} \
  PGBOUNCER_RESERVE_POOL_SIZE=${PGBOUNCER_RESERVE_POOL_SIZE:-0} \
  PGBOUNCER_QUERY_WAIT_TIMEOUT=${PGBOUNCER_QUERY_WAIT_TIMEOUT:-10} \
  PGBOUNCER_STATS_USER=${PGBOUNCER_STATS_USER:-stats}
envsubst < /etc/pgbouncer/pgbouncer.ini.template > /run/pgbouncer/pgbouncer.ini
# auth_file: "user" "password" (plain text: PgBouncer needs it to log into PostgreSQL as the
# user); the stats user has none (pg_hba.conf trusts it, for SHOW commands only).
umask 077
printf '"%s" "%s"\n"%s" ""\n' "${PGBOUNCER_USER//\"/\"\"}" "${PGBOUNCER_PASSWORD//\"/\"\"}" \
  "$PGBOUNCER_STATS_USER" > /run/pgbouncer/userlist.txt
unset PGBOUNCER_PASSWORD
exec "$@"
