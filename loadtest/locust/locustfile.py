"""The k6 request mix for locust: one user class per k6 population, same names, same tasks.

    locust -f loadtest/locust/locustfile.py --headless --host http://127.0.0.1:8080 \\
        --csv results/locust --html results/locust.html --json-file results/locust

(`make locust` runs exactly that and builds the report.) The classes are named exactly like the
k6 scenarios (snake_case, unusually for classes) so that both tools' results share keys.

Each user runs one iteration per second at most (constant_throughput), so the user count is
the target iteration rate; StepLoad raises it like the k6 stress scenario: START_RATE users,
STEP_RATE more every STEP_DURATION (+ RAMP), STEPS times, then stops. Unlike k6's arrival
rate, a slow response delays that user's next iteration: locust is a closed model, and
under saturation it sends less, not more. The settings are the k6 ones (lib/config.js).

At exit the SLO of slo.py is checked as the k6 thresholds are; a breach exits with 99.
"""

import json
import logging
import os
import random
import re
import urllib.request
import uuid

import gevent
import slo  # beside this file; locust puts the locustfile's folder on sys.path
from locust import FastHttpUser, LoadTestShape, constant_throughput, events, task
from locust.runners import MasterRunner, WorkerRunner

log = logging.getLogger("loadtest")


def env_seconds(name: str, default: str) -> float:
    """A k6-style duration setting ("30s", "1m30s", "500ms") in seconds."""
    value = os.environ.get(name) or default
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value)
    if not parts or "".join(a + u for a, u in parts) != value:
        raise ValueError(f"{name}: not a duration: {value!r} (use e.g. 30s, 2m, 1m30s)")
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(amount) * units[unit] for amount, unit in parts)


def env_int(name: str, default: int) -> int:
    return int(slo.env_number(name, default))


UPSTREAM_MS = env_int("UPSTREAM_MS", 50)
SLOW_QUERY_MS = env_int("SLOW_QUERY_MS", 50)
QUERIES = env_int("QUERIES", 5)
RETRY_SHARE = slo.env_number("RETRY_SHARE", 0.1)
SEED_ITEMS = env_int("SEED_ITEMS", 20)
REQUEST_TIMEOUT = env_seconds("REQUEST_TIMEOUT", "10s")
ITERATIONS_PER_USER = 1  # per second: users = iterations/s, as k6's arrival rates count them

seed_item_ids: list[int] = []  # created at test start on every node that runs users


class MixUser(FastHttpUser):
    """What every population shares: pacing, timeouts, and checked requests."""

    abstract = True
    wait_time = constant_throughput(ITERATIONS_PER_USER)
    network_timeout = REQUEST_TIMEOUT
    connection_timeout = REQUEST_TIMEOUT

    def call(self, method: str, path: str, name: str, expected=(200,), **kwargs):
        """Send a request named by its route template; a status not `expected` is a failure."""
        with self.client.request(
            method, path, name=name, catch_response=True, **kwargs
        ) as response:
            if response.status_code in expected:
                response.success()
            else:
                response.failure(f"status {response.status_code}, expected {expected}")
            return response


class tfb_clients(MixUser):  # noqa: N801 (named like the k6 scenario)
    """The TechEmpower endpoints."""

    weight = env_int("MIX_TFB_CLIENTS", 40)

    @task(15)
    def plaintext(self):
        self.call("GET", "/plaintext", "/plaintext")

    @task(25)
    def json_message(self):  # not `json`: locust's web UI calls User.json() on every class
        self.call("GET", "/json", "/json")

    @task(25)
    def db(self):
        self.call("GET", "/db", "/db")

    @task(15)
    def queries(self):
        self.call("GET", f"/queries?queries={QUERIES}", "/queries")

    @task(5)
    def updates(self):
        self.call("GET", f"/updates?queries={QUERIES}", "/updates")

    @task(15)
    def fortunes(self):
        self.call("GET", "/fortunes", "/fortunes")


class item_readers(MixUser):  # noqa: N801
    """A page of items (sometimes the next one too), or one item."""

    weight = env_int("MIX_ITEM_READERS", 30)

    @task(40)
    def list_items(self):
        response = self.call("GET", "/api/items?limit=20", "/api/items")
        cursor = response.status_code == 200 and response.json().get("next_cursor")
        if cursor and random.random() < 0.25:
            self.call("GET", f"/api/items?limit=20&cursor={cursor}", "/api/items")

    @task(60)
    def get_item(self):
        if seed_item_ids:
            item_id = random.choice(seed_item_ids)
            self.call("GET", f"/api/items/{item_id}", "/api/items/{id}")


class item_writers(MixUser):  # noqa: N801
    """Create an item with an Idempotency-Key (some twice), then update and delete some."""

    weight = env_int("MIX_ITEM_WRITERS", 15)

    def post_item(self, body: dict, key: str, expected):
        headers = {"Idempotency-Key": key}
        return self.call("POST", "/api/items", "/api/items", expected, json=body, headers=headers)

    @task
    def write_item(self):
        key = str(uuid.uuid4())
        body = {
            "name": f"load test item {key[:8]}",
            "quantity": random.randrange(100),
            "price": f"{random.uniform(0, 100):.2f}",
        }
        response = self.post_item(body, key, (201, 200))
        if response.status_code in (0, 502, 503, 504):
            # Shed or lost: the same key makes the retry safe (200 if the first got through).
            self.wait_retry_after(response)
            response = self.post_item(body, key, (201, 200))
        if response.status_code not in (200, 201):
            return
        item_id = response.json()["id"]
        if response.status_code == 201 and random.random() < RETRY_SHARE:
            again = self.post_item(body, key, (200,))  # as if the first response had been lost
            if again.status_code == 200 and again.json()["id"] != item_id:
                again.failure("retry did not return the first item")
        if random.random() < 0.5:
            patch = {"quantity": random.randrange(100)}
            self.call("PATCH", f"/api/items/{item_id}", "/api/items/{id}", json=patch)
        if random.random() < 0.5:
            self.call("DELETE", f"/api/items/{item_id}", "/api/items/{id}", (204,))

    @staticmethod
    def wait_retry_after(response) -> None:
        try:
            delay = min(float(response.headers.get("Retry-After", 1)), 1.0)
        except ValueError:
            delay = 1.0
        gevent.sleep(delay)


class slow_callers(MixUser):  # noqa: N801
    """A slow upstream call (holds a greenlet) and a slow query (holds a pool connection)."""

    weight = env_int("MIX_SLOW_CALLERS", 15)

    @task
    def upstream_call(self):
        self.call("GET", f"/sleep?ms={UPSTREAM_MS}", "/sleep")

    @task
    def slow_query(self):
        self.call("GET", f"/db/sleep?ms={SLOW_QUERY_MS}", "/db/sleep")


class StepLoad(LoadTestShape):
    """START_RATE users, STEP_RATE more every STEP_DURATION + RAMP, STEPS steps, then stop."""

    start_rate = env_int("START_RATE", 50)
    step_rate = env_int("STEP_RATE", 50)
    steps = env_int("STEPS", 8)
    step_seconds = env_seconds("STEP_DURATION", "30s")
    ramp_seconds = env_seconds("RAMP", "5s")

    def tick(self):
        run_time = self.get_run_time()
        step = int(run_time // (self.ramp_seconds + self.step_seconds))
        if step >= self.steps:
            return None
        users = self.start_rate + step * self.step_rate
        return users, max(1.0, self.step_rate / max(self.ramp_seconds, 1.0))


# ---------------------------------------------------------------- seed items and the SLO
def _api(environment, method: str, path: str, body: dict | None = None) -> dict | None:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        environment.host.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
        payload = response.read()
    return json.loads(payload) if payload else None


@events.test_start.add_listener
def create_seed_items(environment, **_kwargs):
    """Create the items the readers read (outside the stats), on every node running users."""
    if isinstance(environment.runner, MasterRunner):
        return
    for i in range(SEED_ITEMS):
        body = {"name": f"load test seed {i}", "quantity": i, "price": "1.00"}
        seed_item_ids.append(_api(environment, "POST", "/api/items", body)["id"])


@events.test_stop.add_listener
def delete_seed_items(environment, **_kwargs):
    """Delete the seed items again, so repeated runs do not grow the table with them."""
    while seed_item_ids:
        try:
            _api(environment, "DELETE", f"/api/items/{seed_item_ids.pop()}")
        except OSError as exc:
            log.warning("could not delete a seed item: %s", exc)


@events.quitting.add_listener
def check_slo(environment, **_kwargs):
    """Judge the run by the k6 thresholds' rules; exit with 99 (as k6 does) on a breach."""
    if isinstance(environment.runner, WorkerRunner):
        return
    stats = slo.summarise(environment.runner.stats.entries.values())
    results = slo.evaluate(stats, slo.Slo.from_env())
    for result in results:
        if not result.ok:
            log.error(
                "SLO breached: %s %s (measured %.4g)", result.subject, result.rule, result.value
            )
    if not stats.get("total"):
        log.error("no requests were made")
        environment.process_exit_code = 1
    elif not all(result.ok for result in results):
        environment.process_exit_code = 99
