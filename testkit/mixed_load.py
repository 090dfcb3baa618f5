"""The fault suite's load: readers and careful writers through one URL, audited against the rows.

Readers cycle through `GET /db`, `/queries?queries=3`, `/json` and `GET /api/items/<id>` of an
item a writer has just been acknowledged (read-your-write). Writers `POST /api/items` with an
`Idempotency-Key` and retry with the same key and body every 0.2 s until a 2xx, as a careful
client does. Like most HTTP clients, both resend a request once if its kept-alive connection
closed before any response (careful_session). No think time. Every attempt is recorded from
the client side:

    with MixedLoad(base_url) as load:      # 6 readers and 4 writers until the block ends
        inject_fault()
    figures = load.figures(fault_at=fault_started)
    audit = load.audit(rows)                # rows: (name, id) of the items the database holds

On exit, readers stop at once; each writer finishes the write it started (retrying for at most
`drain_seconds`), so no key is left between "sent" and "acknowledged" when the audit runs.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

READ_PATHS = ("/db", "/queries?queries=3", "/json", "item")
WRITE_RETRY_PAUSE_SECONDS = 0.2
REQUEST_TIMEOUT_SECONDS = 30
RECENT_WRITES = 50  # readers read one of the last N acknowledged items
FAILURE_SAMPLES = 5


def careful_session() -> requests.Session:
    """A session that resends a request once when its connection closed before any response
    (RFC 9112 9.3.1), as browsers and most HTTP clients do: a kept-alive connection the server
    closed just as the request left (an nginx reload) says nothing about the request. Only
    requests that are safe to resend go through it: GETs, and POSTs with an Idempotency-Key."""
    session = requests.Session()
    resend_once = Retry(
        total=1,
        connect=0,
        read=1,
        status=0,
        other=0,
        redirect=0,
        allowed_methods=None,
        raise_on_status=False,
    )
    session.mount("http://", HTTPAdapter(max_retries=resend_once))
    return session


@dataclass
class Attempt:
    """One HTTP request: what it was, when it ran, and how it ended."""

    kind: str  # "read" or "write"
    path: str
    started: float  # time.time()
    finished: float
    status: int | None  # None: no response (connection refused, reset, timeout)
    retry_after: bool = False
    error: str | None = None
    resent: int = 0  # times the client resent it on a connection closed without a response

    @property
    def failed(self) -> bool:
        """No answer, or a server error: what a client of an idempotent request sees as failure."""
        return self.status is None or self.status >= 500


@dataclass
class Write:
    """One logical write: its key, and the item id of the response that acknowledged it."""

    key: str
    attempts: int = 0
    item_id: int | None = None  # set once acknowledged (a 2xx)
    conflicts: int = 0  # 409s to a faithful retry: must never happen


@dataclass
class Figures:
    """What the client saw in a window of the load."""

    requests: int
    reads: int
    writes_acknowledged: int
    failed_idempotent: int  # reads and keyed writes without a 2xx/4xx answer
    failed_not_503: int  # failures other than 503 + Retry-After (the database scenarios' bar)
    status_5xx: dict[str, int]  # "502": n, "503": n, "no response": n
    shed_503_without_retry_after: int
    conflicts_409: int
    read_your_write_misses: int  # an acknowledged item answered 404
    recovery_seconds: float  # from the fault to the end of the last failed request (0: none)
    read_p50_ms: float
    read_p99_ms: float
    slow_reads: int = 0  # reads that took longer than 1 s
    failed_writes: int = 0  # of failed_idempotent: keyed POST attempts (the client retried)
    client_resends: int = 0  # requests resent by the client on a closed connection (then answered)
    failure_samples: list[str] = field(default_factory=list)  # the first few, for diagnosis

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Audit:
    """Acknowledged writes checked against the rows the database holds."""

    acknowledged: int
    lost: list[str] = field(default_factory=list)  # acknowledged keys with no row (or another id)
    duplicated: dict[str, int] = field(default_factory=dict)  # key -> rows, where rows > 1
    unacknowledged: int = 0  # writes still unanswered when the drain ended


class MixedLoad:
    """Reader and writer threads against `base_url` while the `with` block runs (bounded)."""

    def __init__(
        self,
        base_url: str,
        readers: int = 6,
        writers: int = 4,
        max_seconds: float = 180,
        drain_seconds: float = 30,
        prefix: str = "load",
    ):
        self.base_url = base_url.rstrip("/")
        self.prefix = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.attempts: list[Attempt] = []  # list.append is atomic under the GIL
        self.writes: list[Write] = []
        self._acknowledged: list[int] = []
        self._drain_seconds = drain_seconds
        self._deadline = time.monotonic() + max_seconds
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._read, args=(n,), daemon=True, name=f"reader-{n}")
            for n in range(readers)
        ] + [
            threading.Thread(target=self._write, args=(n,), daemon=True, name=f"writer-{n}")
            for n in range(writers)
        ]

    # ------------------------------------------------------------------ running
    def __enter__(self) -> MixedLoad:
        self.started = time.time()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the readers, let every writer finish its current write, and wait for them."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self._drain_seconds + REQUEST_TIMEOUT_SECONDS + 5)
        self.stopped = time.time()

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _send(self, session, kind, method, path, **kwargs) -> tuple[Attempt, dict | None]:
        attempt = Attempt(kind, path, time.time(), 0.0, None)
        body = None
        try:
            response = session.request(
                method, self.base_url + path, timeout=REQUEST_TIMEOUT_SECONDS, **kwargs
            )
            attempt.status = response.status_code
            attempt.retry_after = "Retry-After" in response.headers
            attempt.resent = len(response.raw.retries.history) if response.raw.retries else 0
            if kind == "write" and response.ok:
                body = response.json()
        except requests.RequestException as exc:
            attempt.error = f"{type(exc).__name__}: {str(exc)[:200]}"
        attempt.finished = time.time()
        self.attempts.append(attempt)
        return attempt, body

    def _read(self, number: int) -> None:
        with careful_session() as session:
            sent = number  # readers start at different paths
            while self._running():
                path = READ_PATHS[sent % len(READ_PATHS)]
                sent += 1
                if path == "item":
                    recent = self._acknowledged[-RECENT_WRITES:]
                    if not recent:
                        continue
                    path = f"/api/items/{random.choice(recent)}"
                self._send(session, "read", "GET", path)

    def _write(self, number: int) -> None:
        with careful_session() as session:
            sequence = 0
            while self._running():
                sequence += 1
                self._write_once(session, Write(f"{self.prefix}-w{number}-{sequence}"))

    def _write_once(self, session, write: Write) -> None:
        """POST until a 2xx; after stop() keep retrying for drain_seconds at most."""
        self.writes.append(write)
        body = {"name": write.key, "quantity": len(write.key), "price": "1.50"}
        headers = {"Idempotency-Key": write.key}
        give_up = None
        while True:
            write.attempts += 1
            attempt, answer = self._send(
                session, "write", "POST", "/api/items", json=body, headers=headers
            )
            if answer is not None:
                write.item_id = answer["id"]
                self._acknowledged.append(write.item_id)
                return
            if attempt.status == 409:
                write.conflicts += 1
            if self._stop.is_set():
                give_up = give_up or time.monotonic() + self._drain_seconds
                if time.monotonic() > give_up:
                    return
            time.sleep(WRITE_RETRY_PAUSE_SECONDS)

    # ------------------------------------------------------------------ results
    def figures(self, fault_at: float | None = None) -> Figures:
        """The client's view of every request; recovery is counted from `fault_at` (a time())."""
        since = self.started if fault_at is None else fault_at
        window = list(self.attempts)
        reads = [a for a in window if a.kind == "read"]
        failed = [a for a in window if a.failed]
        durations = sorted((a.finished - a.started) * 1000 for a in reads if not a.failed)
        status_5xx = Counter("no response" if a.status is None else str(a.status) for a in failed)
        return Figures(
            requests=len(window),
            reads=len(reads),
            writes_acknowledged=sum(
                1 for a in window if a.kind == "write" and a.status and a.status < 300
            ),
            failed_idempotent=len(failed),
            failed_not_503=sum(1 for a in failed if not (a.status == 503 and a.retry_after)),
            status_5xx=dict(sorted(status_5xx.items())),
            shed_503_without_retry_after=sum(
                1 for a in failed if a.status == 503 and not a.retry_after
            ),
            conflicts_409=sum(1 for a in window if a.status == 409),
            read_your_write_misses=sum(
                1 for a in reads if a.path.startswith("/api/items/") and a.status == 404
            ),
            recovery_seconds=round(max((a.finished - since for a in failed), default=0.0), 2),
            read_p50_ms=round(statistics.median(durations), 1) if durations else 0.0,
            read_p99_ms=round(_percentile(durations, 0.99), 1),
            slow_reads=sum(1 for d in durations if d > 1000),
            failed_writes=sum(1 for a in failed if a.kind == "write"),
            client_resends=sum(a.resent for a in window),
            failure_samples=[
                f"{a.kind} {a.path} at +{a.started - since:.2f}s: {a.status or a.error}"
                for a in failed[:FAILURE_SAMPLES]
            ],
        )

    def audit(self, rows: list[tuple[str, int]]) -> Audit:
        """Check acknowledged writes against `rows`, the (name, id) of items in the database."""
        ids_by_key: dict[str, list[int]] = {}
        for name, item_id in rows:
            if name.startswith(self.prefix):
                ids_by_key.setdefault(name, []).append(item_id)
        acknowledged = [w for w in self.writes if w.item_id is not None]
        return Audit(
            acknowledged=len(acknowledged),
            lost=[w.key for w in acknowledged if w.item_id not in ids_by_key.get(w.key, [])],
            duplicated={key: len(ids) for key, ids in ids_by_key.items() if len(ids) > 1},
            unacknowledged=sum(1 for w in self.writes if w.item_id is None),
        )


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]
