"""Time buckets: rates and latency percentiles over time from individual samples."""

import math

import numpy as np

from .model import ClientSeries

# Bucket widths (s) to choose from: about NICE_BUCKETS points whatever the run's length.
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300)
NICE_BUCKETS = 240


def choose_step(length: float) -> float:
    """The smallest bucket width that keeps a run of `length` s within ~NICE_BUCKETS buckets."""
    for step in STEPS:
        if length / step <= NICE_BUCKETS:
            return float(step)
    return float(STEPS[-1])


def bucket_count(length: float, step: float) -> int:
    return max(1, math.ceil(length / step))


def bucket_index(offsets, step: float, count: int):
    """The bucket of each offset (s since the start); earlier or later ones go to the ends."""
    return np.clip(np.floor(np.asarray(offsets, dtype=float) / step).astype(int), 0, count - 1)


def rate_per_bucket(offsets, weights, step: float, length: float) -> list[float]:
    """Sum of `weights` per bucket, per second."""
    count = bucket_count(length, step)
    if len(offsets) == 0:
        return [0.0] * count
    index = bucket_index(offsets, step, count)
    return [float(x) for x in np.bincount(index, weights=weights, minlength=count) / step]


def max_per_bucket(offsets, values, step: float, length: float, empty=0.0) -> list[float]:
    """The highest value seen in each bucket (gauges: VUs, users); `empty` where none was."""
    count = bucket_count(length, step)
    result = np.full(count, -np.inf)
    if len(offsets):
        index = bucket_index(offsets, step, count)
        np.fmax.at(result, index, np.asarray(values, dtype=float))  # fmax skips NaN
    return [float(x) if np.isfinite(x) else empty for x in result]


def bucket(offsets, durations, failed, what, group, length: float) -> ClientSeries:
    """Requests/s per group, p50/p95/p99 and failures/s per kind, in time buckets."""
    step = choose_step(length)
    count = bucket_count(length, step)
    index = bucket_index(offsets, step, count)
    durations = np.asarray(durations, dtype=float)
    group = np.asarray(group)
    what = np.asarray(what)
    failed = np.asarray(failed, dtype=bool)

    requests = {
        name: list(np.bincount(index[group == name], minlength=count) / step)
        for name in np.unique(group)
    }
    errors = {
        kind: list(np.bincount(index[failed & (what == kind)], minlength=count) / step)
        for kind in np.unique(what[failed])
    }
    percentiles = np.full((count, 3), np.nan)
    order = np.argsort(index, kind="stable")
    boundaries = np.searchsorted(index[order], np.arange(count + 1))
    for i in range(count):
        chunk = durations[order[boundaries[i] : boundaries[i + 1]]]
        if chunk.size:
            percentiles[i] = np.percentile(chunk, [50, 95, 99])
    return ClientSeries(
        start=0.0,
        step=step,
        times=[i * step for i in range(count)],
        requests={str(k): [float(x) for x in v] for k, v in requests.items()},
        p50_ms=[float(x) for x in percentiles[:, 0]],
        p95_ms=[float(x) for x in percentiles[:, 1]],
        p99_ms=[float(x) for x in percentiles[:, 2]],
        errors={str(k): [float(x) for x in v] for k, v in errors.items()},
        active=[0.0] * count,
    )
