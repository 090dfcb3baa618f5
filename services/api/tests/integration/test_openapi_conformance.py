"""schemathesis against a real gunicorn: no 5xx, and every response as the document says
(status codes, content types, schemas, headers), for generated valid and invalid requests."""

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
CONFIG = HERE / "schemathesis.toml"


def test_api_conforms_to_its_openapi_document(gunicorn_server, database_url, tmp_path):
    # database_url: the items schemathesis writes are removed afterwards. tmp_path: where it
    # keeps its cache (.schemathesis/, in the working directory), out of the repository.
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(CONFIG),
            "run",
            gunicorn_server.url + "/openapi.json",
            "--checks",
            "all",
            "--request-timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(HERE), "SCHEMATHESIS_HOOKS": "schemathesis_hooks"},
    )
    summary = re.search(r"(\d+) generated", result.stdout)
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert summary and int(summary.group(1)) > 100
