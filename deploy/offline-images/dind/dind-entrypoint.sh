#!/bin/sh
# dockerd as PID 1's child, on /run/docker.sock and (if /run/dind is mounted) /run/dind/docker.sock,
# so the host can drive this engine; DIND_DOCKERD_FLAGS adds flags (e.g. --iptables=false).
set -eu
hosts="-H unix:///run/docker.sock"
if [ -d /run/dind ]; then hosts="$hosts -H unix:///run/dind/docker.sock"; fi
# shellcheck disable=SC2086
exec dockerd $hosts ${DIND_DOCKERD_FLAGS:-} "$@"
