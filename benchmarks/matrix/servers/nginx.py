"""nginx for the matrix: a fixed-body ceiling, or a proxy in front of the API (the stack's hop).

Runs the stack's own image (nginx:1.30.6) on the host network, so no Docker port proxy sits in
the measured path. The proxy settings mirror deploy/nginx: keep-alive upstream connections,
buffering on.
"""

import subprocess
import tempfile
from pathlib import Path

IMAGE = "nginx:1.30.6"

_STATIC = """
        location = /plaintext { default_type text/plain; return 200 "Hello, World!"; }
        location = /json {
            default_type application/json; return 200 '{"message":"Hello, World!"}';
        }
"""
_PROXY = """
        location / {
            proxy_pass http://api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering on;
        }
"""
_CONFIG = """
worker_processes auto;
error_log stderr warn;
pid /tmp/nginx-bench.pid;
events { worker_connections 4096; }
http {
    access_log off;
    upstream api { server 127.0.0.1:%(upstream_port)d; keepalive 64; keepalive_timeout 60s; }
    server {
        listen 127.0.0.1:%(port)d backlog=4096;
        %(locations)s
    }
}
"""


class Nginx:
    """start() a container serving on `port`; proxying to `upstream_port` if given."""

    def __init__(self, port: int, upstream_port: int | None = None):
        self.port = port
        self._config = Path(tempfile.mkstemp(prefix="nginx-bench-", suffix=".conf")[1])
        self._config.write_text(
            _CONFIG
            % {
                "port": port,
                "upstream_port": upstream_port or 9,
                "locations": _PROXY if upstream_port else _STATIC,
            }
        )
        self._config.chmod(0o644)
        self._container: str | None = None

    def start(self) -> None:
        self._container = subprocess.run(
            [
                "docker",
                "run",
                "-d",
                "--rm",
                "--network",
                "host",
                "-v",
                f"{self._config}:/etc/nginx/nginx.conf:ro",
                IMAGE,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def stop(self) -> None:
        if self._container:
            subprocess.run(["docker", "stop", "-t", "2", self._container], capture_output=True)
        self._config.unlink(missing_ok=True)
