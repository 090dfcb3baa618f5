"""PostgreSQL: connections against max_connections, throughput, cache, locks, long transactions;
and PgBouncer, where the stack runs it (deploy/pgbouncer/): clients, server pool, waits."""

from .common import (
    GREEN,
    JOB_INSTANCE,
    ORANGE,
    QUARTER,
    RATE,
    RED,
    base_dashboard,
    finish,
    query_variable,
    stat_panel,
    timeseries_panel,
    with_sections,
)

UID = "postgres"
PG = JOB_INSTANCE
DB = f'{JOB_INSTANCE}, datname=~"$datname"'
# PgBouncer's pools of the API's database, not its admin console (the `pgbouncer` database).
POOLS = f'{JOB_INSTANCE}, database!="pgbouncer"'
# Both exporters' targets: the job and instance variables offer PostgreSQL's and PgBouncer's.
SERVERS = '{__name__=~"pg_up|pgbouncer_up"'


def job_variables():
    return [
        query_variable(
            "job", "Job", f"label_values({SERVERS}}}, job)", "Prometheus job of the targets."
        ),
        query_variable(
            "instance",
            "Server",
            f'label_values({SERVERS}, job=~"$job"}}, instance)',
            "One exporter per value (postgres_exporter, pgbouncer_exporter): its host:port.",
        ),
    ]


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
        [*job_variables(), datname_variable()],
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
        (
            "PgBouncer",
            [
                pgbouncer_up_stat(),
                pgbouncer_clients_timeseries(),
                pgbouncer_servers_timeseries(),
                pgbouncer_wait_timeseries(),
                pgbouncer_transactions_timeseries(),
            ],
        ),
    ]
    return finish(with_sections(builder, sections))


# ---------------------------------------------------------------- PgBouncer
def pgbouncer_up_stat():
    return stat_panel(
        "PgBouncer up",
        "1 when pgbouncer_exporter could query PgBouncer's admin console at its last scrape. "
        "No value: the stack runs without PgBouncer (deploy/pgbouncer/).",
        "short",
        f"min(pgbouncer_up{{{PG}}})",
        threshold_steps=((None, RED), (1, GREEN)),
        span=QUARTER,
    )


def pgbouncer_clients_timeseries():
    return timeseries_panel(
        "PgBouncer clients vs max_client_conn",
        "Client connections (the API's pools) linked to a server connection (active) and "
        "waiting for one (waiting: the server pool is the bottleneck), and max_client_conn.",
        "short",
        [
            (f"sum(pgbouncer_pools_client_active_connections{{{POOLS}}})", "active"),
            (f"sum(pgbouncer_pools_client_waiting_connections{{{POOLS}}})", "waiting"),
            (f"max(pgbouncer_config_max_client_connections{{{PG}}})", "max_client_conn"),
        ],
        dashed="max_client_conn",
        span=12,
    )


def pgbouncer_servers_timeseries():
    return timeseries_panel(
        "PgBouncer server connections vs pool size",
        "Connections PgBouncer holds to PostgreSQL: running a transaction (active) or parked "
        "(idle), against default_pool_size; all PostgreSQL sees of the API.",
        "short",
        [
            (f"sum(pgbouncer_pools_server_active_connections{{{POOLS}}})", "active"),
            (f"sum(pgbouncer_pools_server_idle_connections{{{POOLS}}})", "idle"),
            (f"sum(pgbouncer_databases_pool_size{{{POOLS}}})", "pool size"),
        ],
        dashed="pool size",
        span=12,
    )


def pgbouncer_wait_timeseries():
    wait = f"sum(rate(pgbouncer_stats_totals_client_wait_seconds_total{{{POOLS}}}{RATE}))"
    xacts = f"sum(rate(pgbouncer_stats_totals_sql_transactions_pooled_total{{{POOLS}}}{RATE}))"
    return timeseries_panel(
        "PgBouncer client wait",
        "How long clients wait for a server connection: the oldest waiting now, and the mean "
        "per transaction. Above a few ms: raise default_pool_size (if PostgreSQL has room).",
        "s",
        [
            (f"max(pgbouncer_pools_client_maxwait_seconds{{{POOLS}}})", "oldest waiting"),
            (f"{wait} / {xacts}", "mean per transaction"),
        ],
        span=12,
    )


def pgbouncer_transactions_timeseries():
    return timeseries_panel(
        "PgBouncer transactions",
        "Transactions and queries per second PgBouncer passed to PostgreSQL.",
        "ops",
        [
            (
                f"sum(rate(pgbouncer_stats_totals_sql_transactions_pooled_total{{{POOLS}}}{RATE}))",
                "transactions",
            ),
            (
                f"sum(rate(pgbouncer_stats_totals_queries_pooled_total{{{POOLS}}}{RATE}))",
                "queries",
            ),
        ],
        span=12,
    )
