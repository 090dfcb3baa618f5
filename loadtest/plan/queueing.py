"""The queueing formulas the model uses, as plain functions (docs/capacity.md says why these).

- Erlang C (M/M/c): a worker's database pool is `c` servers (connections) shared by requests
  arriving at random; a request that finds them all busy waits, first come first served
  (SQLAlchemy's QueuePool). Offered load `a` = arrival rate × mean hold time, in Erlangs
  (Little's law: the average number of connections in use).
- Processor sharing: a gevent event loop runs every ready greenlet in turn, so each request's
  CPU work is slowed by 1 / (1 − ρ) on a core busy ρ of the time (M/G/1-PS: whatever the
  distribution of the work).
"""

import math


def erlang_c(servers: int, offered: float) -> float:
    """The probability that an arrival waits, with `servers` busy on `offered` Erlangs (1.0 at or
    past saturation). Computed through Erlang B's recursion, which never overflows."""
    if offered <= 0:
        return 0.0
    if offered >= servers:
        return 1.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered * blocking / (k + offered * blocking)
    return servers * blocking / (servers - offered * (1 - blocking))


def mean_wait(servers: int, offered: float, hold: float, hold_cv2: float = 1.0) -> float:
    """Mean time (s) an arrival waits for one of `servers`, each held `hold` s on average.

    Holds whose squared coefficient of variation is `hold_cv2` (1: exponential, as M/M/c
    assumes) scale the wait by (1 + cv²) / 2: the Allen–Cunneen approximation for M/G/c.
    """
    if offered >= servers:
        return math.inf
    return erlang_c(servers, offered) * wait_scale(servers, offered, hold, hold_cv2)


def wait_quantile(
    servers: int, offered: float, hold: float, quantile: float, hold_cv2: float = 1.0
) -> float:
    """The wait (s) that a `quantile` of arrivals stay within: P(W > t) = C·exp(−t / θ), with θ
    the mean wait of those who wait (mean_wait / C)."""
    if offered >= servers:
        return math.inf
    waiting = erlang_c(servers, offered)
    if waiting <= 1 - quantile:
        return 0.0
    return wait_scale(servers, offered, hold, hold_cv2) * math.log(waiting / (1 - quantile))


def wait_scale(servers: int, offered: float, hold: float, hold_cv2: float = 1.0) -> float:
    """θ: the mean wait (s) of an arrival that has to wait, h / (c − a) for M/M/c."""
    return hold / (servers - offered) * (1 + hold_cv2) / 2


def stretch(utilisation: float) -> float:
    """How much longer CPU work takes on a core busy `utilisation` of the time (processor
    sharing): 1 / (1 − ρ), infinite at saturation."""
    return math.inf if utilisation >= 1 else 1 / (1 - utilisation)


def cpu_stretch(worker: float, node: float | None = None, cores: int | None = None) -> float:
    """How much longer a request's CPU work takes than on idle cores: its worker's core busy
    `worker` of the time (processor sharing), and, where the node is shared, the node's
    `cores` busy `node` of the time (M/M/c: the wait for a free core, in service times)."""
    factor = stretch(worker)
    if node is not None and cores:
        if node >= 1:
            return math.inf
        factor *= 1 + erlang_c(cores, cores * node) / (cores * (1 - node))
    return factor


def servers_for(
    offered: float, hold: float, max_wait: float, quantile: float, hold_cv2: float = 1.0
) -> int:
    """The fewest servers that keep the `quantile` wait within `max_wait` s at `offered`."""
    servers = max(1, math.floor(offered) + 1)
    while wait_quantile(servers, offered, hold, quantile, hold_cv2) > max_wait:
        servers += 1
    return servers
