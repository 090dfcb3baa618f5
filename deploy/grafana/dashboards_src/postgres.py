"""PostgreSQL: connections against max_connections, throughput, cache, locks, long transactions."""

from .common import (
    GREEN,
    JOB_INSTANCE,
    ORANGE,
    QUARTER,
    RATE,
    RED,
    base_dashboard,
    finish,
    job_instance_variables,
    query_variable,
    stat_panel,
    timeseries_panel,
    with_sections,
)

UID = "postgres"
PG = JOB_INSTANCE
DB = f'{JOB_INSTANCE}, datname=~"$datname"'


def datname_variable():
    return query_variable(
        "datname",
        "Database",
        f"label_values(pg_stat_database_xact_commit{{{PG}}}, datname)",
        "Databases of the selected servers.",
    )


# ---------------------------------------------------------------- headline stats
def up_stat():
    return stat_panel(
        "PostgreSQL up",
        "1 when postgres_exporter could connect to PostgreSQL at its last scrape.",
        "short",
        f"min(pg_up{{{PG}}})",
        threshold_steps=((None, RED), (1, GREEN)),
        span=QUARTER,
    )


def connection_use_stat():
    return stat_panel(
        "Connections used",
        "Backends / max_connections (recorded as instance:pg_connections:ratio). Alert at 80 %.",
        "percentunit",
        f"max(instance:pg_connections:ratio{{{PG}}})",
        threshold_steps=((None, GREEN), (0.6, ORANGE), (0.8, RED)),
        span=QUARTER,
    )


def max_connections_stat():
    return stat_panel(
        "max_connections",
        "The server's max_connections setting: the ceiling for all API pools together.",
        "short",
        f"max(pg_settings_max_connections{{{PG}}})",
        span=QUARTER,
    )


def cache_hit_stat():
    return stat_panel(
        "Cache hit ratio",
        "Share of block reads served from shared buffers. Healthy on this workload: above 99 %.",
        "percentunit",
        cache_hit_ratio(),
        threshold_steps=((None, RED), (0.9, ORANGE), (0.99, GREEN)),
        decimals=2,
        span=QUARTER,
    )


def cache_hit_ratio() -> str:
    hit = f"sum(rate(pg_stat_database_blks_hit{{{DB}}}{RATE}))"
    read = f"sum(rate(pg_stat_database_blks_read{{{DB}}}{RATE}))"
    return f"{hit} / ({hit} + {read})"


# ---------------------------------------------------------------- panels
def connections_by_state_timeseries():
    return timeseries_panel(
        "Connections by state vs max_connections",
        "Backends per state (active: running a query; idle: parked in an API pool; idle in "
        "transaction: holding locks, a bug if it lasts) and max_connections (dashed).",
        "short",
        [
            (f"sum by (state) (pg_stat_activity_count{{{DB}}})", "{{state}}"),
            (f"max(pg_settings_max_connections{{{PG}}})", "max_connections"),
        ],
        dashed="max_connections",
        span=12,
    )


def transactions_timeseries():
    return timeseries_panel(
        "Transactions",
        "Commits and rollbacks per second per database. Rollbacks: failed requests or "
        "read-only sessions the API rolls back on purpose (/db/sleep).",
        "ops",
        [
            (
                f"sum by (datname) (rate(pg_stat_database_xact_commit{{{DB}}}{RATE}))",
                "{{datname}} commit",
            ),
            (
                f"sum by (datname) (rate(pg_stat_database_xact_rollback{{{DB}}}{RATE}))",
                "{{datname}} rollback",
            ),
        ],
        span=12,
    )


def rows_timeseries():
    return timeseries_panel(
        "Rows",
        "Rows per second fetched (by index scans), returned (by all scans), inserted, updated "
        "and deleted. Returned far above fetched: sequential scans.",
        "suffix: rows/s",
        [
            (f"sum(rate(pg_stat_database_tup_{kind}{{{DB}}}{RATE}))", kind)
            for kind in ("fetched", "returned", "inserted", "updated", "deleted")
        ],
        span=QUARTER,
    )


def cache_hit_timeseries():
    return timeseries_panel(
        "Cache hit ratio",
        "Block reads served from shared buffers / all block reads. A drop means the working "
        "set no longer fits shared_buffers.",
        "percentunit",
        [(cache_hit_ratio(), "hit ratio")],
        span=QUARTER,
        min_value=None,
    )


def locks_timeseries():
    return timeseries_panel(
        "Locks by mode",
        "Locks held per mode. Exclusive modes growing with latency: requests wait on each "
        "other's rows.",
        "short",
        [(f"sum by (mode) (pg_locks_count{{{DB}}})", "{{mode}}")],
        span=QUARTER,
    )


def deadlocks_timeseries():
    return timeseries_panel(
        "Deadlocks",
        "Deadlocks detected per interval; each aborted one transaction with an error. "
        "Healthy: none.",
        "short",
        [
            (
                f"sum by (datname) (increase(pg_stat_database_deadlocks{{{DB}}}{RATE}))",
                "{{datname}}",
            )
        ],
        span=QUARTER,
        bars=True,
    )


def longest_transaction_timeseries():
    return timeseries_panel(
        "Longest transaction",
        "Age of the oldest open transaction per database and state. The dashed line is the "
        "PostgresLongTransaction alert (5 minutes).",
        "s",
        [
            (
                f"max by (datname, state) (pg_stat_activity_max_tx_duration{{{DB}}})",
                "{{datname}} {{state}}",
            )
        ],
        span=24,
        threshold_steps=((None, GREEN), (300, RED)),
    )


def build() -> dict:
    """The PostgreSQL dashboard."""
    builder = base_dashboard(
        UID,
        "PostgreSQL",
        "PostgreSQL as postgres_exporter sees it: connections against max_connections, "
        "transactions, rows, cache hit ratio, locks, deadlocks and the longest transaction.",
        ["postgres"],
        [*job_instance_variables("pg_up", "Job", "Server"), datname_variable()],
    )
    sections = [
        ("Server", [up_stat(), connection_use_stat(), max_connections_stat(), cache_hit_stat()]),
        (
            "Connections and throughput",
            [connections_by_state_timeseries(), transactions_timeseries()],
        ),
        (
            "Work",
            [rows_timeseries(), cache_hit_timeseries(), locks_timeseries(), deadlocks_timeseries()],
        ),
        ("Transactions", [longest_transaction_timeseries()]),
    ]
    return finish(with_sections(builder, sections))
