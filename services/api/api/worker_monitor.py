"""Watch a gevent worker's event loop: how late timers fire, and whether it blocks.

A blocked hub stalls every greenlet of the worker at once, and is invisible from inside a
request. Two signals: a timer greenlet measuring its own lateness (lag), and gevent's
monitor thread, which notices when the hub has not switched for a threshold (blocked).
"""

import logging
import time

import gevent
from gevent import events

from . import metrics

log = logging.getLogger(__name__)

LAG_INTERVAL_SECONDS = 0.1


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


def _measure_lag(blocked: _BlockedEvents) -> None:
    while True:
        start = time.perf_counter()
        gevent.sleep(LAG_INTERVAL_SECONDS)
        metrics.EVENT_LOOP_LAG.observe(max(0.0, time.perf_counter() - start - LAG_INTERVAL_SECONDS))
        blocked.flush()


def start(blocked_threshold_ms: int) -> None:
    """Start the lag greenlet and, if the threshold is not 0, gevent's monitor thread."""
    blocked = _BlockedEvents()
    if blocked_threshold_ms:
        gevent.config.monitor_thread = True
        gevent.config.max_blocking_time = blocked_threshold_ms / 1000
        gevent.config.print_blocking_reports = False  # logged by flush(), one line
        events.subscribers.append(blocked)
        gevent.get_hub().start_periodic_monitoring_thread()
    gevent.spawn(_measure_lag, blocked)
