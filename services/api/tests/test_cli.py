"""`python -m api migrate` and `python -m api settings`, run as operators run them."""


def test_migrate_is_safe_to_run_again(api_command, postgres, count_rows):
    result = api_command("migrate", DATABASE_URL=postgres.url)
    assert result.returncode == 0, result.stderr
    assert "added 0 world and 0 fortune rows" in result.stdout
    assert (count_rows("world"), count_rows("fortune")) == (10_000, 12)


def test_migrate_restores_missing_reference_rows(api_command, postgres, count_rows):
    postgres.execute_admin("DELETE FROM fortune WHERE id > 10")
    result = api_command("migrate", DATABASE_URL=postgres.url)
    assert "added 0 world and 2 fortune rows" in result.stdout
    assert count_rows("fortune") == 12


def test_migrate_refuses_a_budget_the_database_cannot_hold(api_command, postgres):
    # The test server allows 300 connections; 3 are reserved for superusers.
    result = api_command("migrate", DATABASE_URL=postgres.url, DB_CONNECTION_BUDGET="1000")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "DB_CONNECTION_BUDGET=1000 exceeds" in last_line
    assert "max_connections=300" in last_line


def test_migrate_gives_up_on_an_unreachable_database(api_command):
    result = api_command(
        "migrate", "--wait", "1", DATABASE_URL="postgresql://app:x@127.0.0.1:1/app"
    )
    assert result.returncode != 0
    assert "database not reachable after 1 s" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_shows_derived_values_without_the_password(api_command):
    result = api_command(
        "settings",
        DATABASE_URL="postgresql://app:hunter2@db/app",
        DB_CONNECTION_BUDGET="60",
        WEB_CONCURRENCY="3",
    )
    assert result.returncode == 0
    assert "hunter2" not in result.stdout
    assert "DB_POOL_SIZE=20" in result.stdout
    assert "database connections at most: 60" in result.stdout


def test_bad_setting_is_one_line(api_command):
    result = api_command("settings", DB_POOL_TIMEOUT="soon")
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "Error: invalid configuration: DB_POOL_TIMEOUT='soon': "
        "Input should be a valid number, unable to parse string as a number"
    )
