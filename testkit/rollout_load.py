"""Mixed load for the rolling-deploy tests: readers, and writers that retry with one key.

A stand-in for the fault suite's load harness (same idea, fewer figures) until that lands:

    with RolloutLoad(base_url) as load:        # until the block ends (at most max_seconds)
        roll_out()
    load.failed()                               # requests without a 2xx-4xx answer
    load.lost_in(psql("-At", "-F,", "-c", load.audit_query()))   # acknowledged, not stored

Readers loop over GET /json, /db, /sleep?ms=50 and /api/items/<id> of an acknowledged item
(read-your-write). Writers POST /api/items with an Idempotency-Key and, as a careful client,
retry with the same key every 0.2 s until a 2xx. Each thread keeps its connection alive.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from dataclasses import dataclass

import requests

READ_PATHS = ("/json", "/db", "/sleep?ms=50", "item")
RETRY_PAUSE_SECONDS = 0.2


@dataclass
class Attempt:
    kind: str  # "read" or "write"
    path: str
    started: float  # time.time()
    status: int | None  # None: no response
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 500


class RolloutLoad:
    def __init__(self, base_url: str, readers: int = 4, writers: int = 2, max_seconds=300):
        self.base_url = base_url.rstrip("/")
        self.prefix = f"rollout-{uuid.uuid4().hex[:8]}"
        self.attempts: list[Attempt] = []  # list.append is atomic
        self.acknowledged: dict[str, int] = {}  # key -> item id
        self._deadline = time.monotonic() + max_seconds
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read, daemon=True) for _ in range(readers)]
        self._threads += [
            threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(writers)
        ]

    def __enter__(self) -> RolloutLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()  # writers finish the write they started
        for thread in self._threads:
            thread.join(timeout=90)

    def _send(self, session, kind: str, method: str, path: str, **kwargs) -> dict | None:
        attempt = Attempt(kind, path, time.time(), None)
        try:
            response = session.request(method, self.base_url + path, timeout=30, **kwargs)
            attempt.status = response.status_code
            body = response.json() if kind == "write" and response.ok else None
        except requests.RequestException as exc:
            attempt.error, body = f"{type(exc).__name__}: {str(exc)[:160]}", None
        self.attempts.append(attempt)
        return body

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _read(self) -> None:
        with requests.Session() as session:
            for path in itertools.cycle(READ_PATHS):
                if not self._running():
                    return
                if path == "item":
                    if not self.acknowledged:
                        continue
                    path = f"/api/items/{random.choice(list(self.acknowledged.values()))}"
                self._send(session, "read", "GET", path)

    def _write(self, number: int) -> None:
        with requests.Session() as session:
            for n in itertools.count():
                if not self._running():
                    return
                self._write_until_acknowledged(session, f"{self.prefix}-{number}-{n}")

    def _write_until_acknowledged(self, session, key: str) -> None:
        body = {"name": key, "quantity": 1, "price": "1.50"}
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            answer = self._send(
                session, "write", "POST", "/api/items", json=body, headers={"Idempotency-Key": key}
            )
            if answer is not None:
                self.acknowledged[key] = answer["id"]
                return
            time.sleep(RETRY_PAUSE_SECONDS)

    def failed(self) -> list[Attempt]:
        """Every request, read or keyed write, that got no answer or a 5xx."""
        return [attempt for attempt in self.attempts if attempt.failed]

    def read_your_write_misses(self) -> list[Attempt]:
        return [a for a in self.attempts if a.path.startswith("/api/items/") and a.status == 404]

    def audit_query(self) -> str:
        """SQL for the (name, id) of this run's items, whose `psql -At -F,` output lost_in reads."""
        return f"SELECT name, id FROM items WHERE name LIKE '{self.prefix}-%'"

    def lost_in(self, psql_output: str) -> list[str]:
        """Acknowledged keys whose item (name and id) the database does not hold."""
        held = {tuple(row.split(",")) for row in psql_output.split()}
        return [k for k, item_id in self.acknowledged.items() if (k, str(item_id)) not in held]

    def summary(self) -> dict:
        failed = self.failed()
        return {
            "requests": len(self.attempts),
            "writes_acknowledged": len(self.acknowledged),
            "failed": len(failed),
            "failed_writes": sum(1 for a in failed if a.kind == "write"),
            "failure_samples": [f"{a.kind} {a.path}: {a.status or a.error}" for a in failed[:5]],
        }
