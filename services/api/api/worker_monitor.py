"""Watch a worker: what it holds right now (sampled), and whether its event loop keeps up.

Gauges of what a worker holds (requests in flight, open connections, pool connections) are
sampled every SAMPLE_INTERVAL_SECONDS instead of written on every change: each write is a
locked mmap write in multiprocess mode, and a scrape reads a snapshot either way.

In a gevent worker, a blocked hub stalls every greenlet at once and is invisible from inside
a request. Two signals: the sampling greenlet measures its own lateness (lag), and a native
watchdog thread notices when that greenlet has not run for longer than the threshold (blocked)
and records what the worker's thread was running meanwhile.

The watchdog does what gevent's own monitor thread (gevent.config.max_blocking_time) does,
without its cost: gevent's installs a greenlet trace function that runs on every greenlet
switch, 14 % of a /db request's CPU here (docs/benchmarks.md); this one reads a timestamp the
sampling greenlet writes ten times a second.
"""

import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable

import gevent
from gevent import monkey

from . import metrics

log = logging.getLogger(__name__)

SAMPLE_INTERVAL_SECONDS = 0.1


class _Watchdog:
    """Counts the times the sampling greenlet was late by more than `threshold` seconds: the
    event loop was blocked. It runs in a native thread, which must not touch gevent-patched
    locks; the sampling greenlet moves the count into the metric, in the hub."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.beat = time.perf_counter()  # the sampling greenlet's last run
        self.count = 0
        self.where = ""  # the innermost frames of the worker's thread during the last block
        self._hub_thread = monkey.get_original("_thread", "get_ident")()
        self._in_block = False

    def start(self) -> None:
        monkey.get_original("_thread", "start_new_thread")(self._watch, ())

    def _watch(self) -> None:
        sleep = monkey.get_original("time", "sleep")
        while True:
            sleep(self.threshold / 2)
            late = time.perf_counter() - self.beat - SAMPLE_INTERVAL_SECONDS
            if late <= self.threshold:
                self._in_block = False
            elif not self._in_block:  # once per block, however long it lasts
                self._in_block = True
                self.count += 1
                frame = sys._current_frames().get(self._hub_thread)
                self.where = " | ".join(
                    line.strip().replace("\n", " ") for line in traceback.format_stack(frame)[-4:]
                )

    def flush(self) -> None:
        count, self.count = self.count, 0
        if count:
            metrics.EVENT_LOOP_BLOCKED.inc(count)
            log.warning("event loop blocked %d time(s); last: %s", count, self.where)


def _sample_and_measure_lag(sample: Callable[[], None], watchdog: _Watchdog | None) -> None:
    while True:
        start = time.perf_counter()
        gevent.sleep(SAMPLE_INTERVAL_SECONDS)
        now = time.perf_counter()
        metrics.EVENT_LOOP_LAG.observe(max(0.0, now - start - SAMPLE_INTERVAL_SECONDS))
        if watchdog:
            watchdog.beat = now
            watchdog.flush()
        sample()


def _sample_forever(sample: Callable[[], None]) -> None:
    while True:
        time.sleep(SAMPLE_INTERVAL_SECONDS)
        sample()


def start(sample: Callable[[], None], *, gevent_worker: bool, blocked_threshold_ms: int) -> None:
    """Call `sample` periodically; in a gevent worker also measure lag and, unless the
    threshold is 0, watch for a blocked event loop."""
    sample()
    if not gevent_worker:
        threading.Thread(target=_sample_forever, args=(sample,), daemon=True).start()
        return
    watchdog = _Watchdog(blocked_threshold_ms / 1000) if blocked_threshold_ms else None
    if watchdog:
        watchdog.start()
    gevent.spawn(_sample_and_measure_lag, sample, watchdog)
