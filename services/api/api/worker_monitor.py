"""Watch a worker: what it holds right now (sampled), and whether its event loop keeps up.

Gauges of what a worker holds (requests in flight, open connections, pool connections) are
sampled every SAMPLE_INTERVAL_SECONDS instead of written on every change: each write is a
locked mmap write in multiprocess mode, and a scrape reads a snapshot either way.

In a gevent worker, a blocked hub stalls every greenlet at once and is invisible from inside
a request. Two signals: the sampling greenlet measures its own lateness (lag), and gevent's
monitor thread notices when the hub has not switched for a threshold (blocked).
"""

import logging
import threading
import time
from collections.abc import Callable

import gevent
from gevent import events

from . import metrics

log = logging.getLogger(__name__)

SAMPLE_INTERVAL_SECONDS = 0.1


class _BlockedEvents:
    """Counts EventLoopBlocked events. They arrive in the monitor thread, which must not touch
    gevent-patched locks; the lag greenlet moves the count into the metric, in the hub."""

    def __init__(self):
        self.count = 0
        self.last_report: list[str] = []

    def __call__(self, event) -> None:
        if isinstance(event, events.EventLoopBlocked):
            self.count += 1
            self.last_report = event.info

    def flush(self) -> None:
        count, self.count = self.count, 0
        if count:
            metrics.EVENT_LOOP_BLOCKED.inc(count)
            where = " | ".join(line.strip() for line in self.last_report[-4:])
            log.warning("event loop blocked %d time(s); last: %s", count, where)


def _sample_and_measure_lag(sample: Callable[[], None], blocked: _BlockedEvents) -> None:
    while True:
        start = time.perf_counter()
        gevent.sleep(SAMPLE_INTERVAL_SECONDS)
        lag = time.perf_counter() - start - SAMPLE_INTERVAL_SECONDS
        metrics.EVENT_LOOP_LAG.observe(max(0.0, lag))
        blocked.flush()
        sample()


def _sample_forever(sample: Callable[[], None]) -> None:
    while True:
        time.sleep(SAMPLE_INTERVAL_SECONDS)
        sample()


def start(sample: Callable[[], None], *, gevent_worker: bool, blocked_threshold_ms: int) -> None:
    """Call `sample` periodically; in a gevent worker also measure lag and, unless the
    threshold is 0, start gevent's monitor thread."""
    sample()
    if not gevent_worker:
        threading.Thread(target=_sample_forever, args=(sample,), daemon=True).start()
        return
    blocked = _BlockedEvents()
    if blocked_threshold_ms:
        gevent.config.monitor_thread = True
        gevent.config.max_blocking_time = blocked_threshold_ms / 1000
        gevent.config.print_blocking_reports = False  # logged by flush(), one line
        events.subscribers.append(blocked)
        gevent.get_hub().start_periodic_monitoring_thread()
    gevent.spawn(_sample_and_measure_lag, sample, blocked)
