"""Hold N concurrent slow requests against a URL, ramped up, and compare with Little's law.

    python -m benchmarks.hold_connections URL [--connections 10000] [--duration 30]
        [--ramp 10] [--hold-ms 2000]

GET URL?ms=HOLD_MS from `connections` keep-alive connections: one wrk per 1,000 of them,
started evenly over `ramp` seconds (a crowd arrives over time; 10,000 handshakes in the same
instant only measure accept queues), each running `duration` seconds. Reports the summed
rate, errors (socket errors and non-2xx), the slowest wrk's p50/p99, and the requests
completed against Little's law: each connection can complete at most duration // hold
requests in its run (connections / hold per second, once every connection is open). Load goes
only where URL points: loopback or the project's own containers. docs/benchmarks.md shows a
run through the Compose stack.
"""

import argparse
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from .matrix.run import parse_wrk

CONNECTIONS_PER_WRK = 1000
WRK_TIMEOUT_SECONDS = 30  # nginx's proxy_read_timeout is 35 s: any later answer is an error


def run_wrk(url: str, connections: int, duration: int, delay: float) -> dict:
    time.sleep(delay)
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={WRK_TIMEOUT_SECONDS}s",
        "--latency",
        url,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + WRK_TIMEOUT_SECONDS + 30
    ).stdout
    errors = [
        line.strip() for line in output.splitlines() if "errors:" in line or "Non-2xx" in line
    ]
    return {**parse_wrk(output), "error_lines": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="e.g. http://172.20.0.4:8080/sleep (nginx's address)")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=30, help="seconds each wrk runs")
    parser.add_argument("--ramp", type=float, default=10, help="seconds to start them all")
    parser.add_argument("--hold-ms", type=int, default=2000)
    args = parser.parse_args()
    url = f"{args.url}?ms={args.hold_ms}"
    shares = [CONNECTIONS_PER_WRK] * (args.connections // CONNECTIONS_PER_WRK)
    if args.connections % CONNECTIONS_PER_WRK:
        shares.append(args.connections % CONNECTIONS_PER_WRK)
    step = args.ramp / len(shares)
    with ThreadPoolExecutor(len(shares)) as pool:
        results = list(
            pool.map(
                lambda job: run_wrk(url, job[1], args.duration, job[0] * step), enumerate(shares)
            )
        )
    for result in results:
        for line in result["error_lines"]:
            print(f"  wrk: {line}")
    rate = sum(result["rps"] for result in results)
    completed = sum(result["requests"] for result in results)
    ideal = args.connections * (args.duration * 1000 // args.hold_ms)  # Little's law, per run
    p50s = [r["p50"] for r in results if r["p50"]]
    p99s = [r["p99"] for r in results if r["p99"]]
    print(
        f"{args.connections} connections x {args.hold_ms} ms, {len(shares)} wrk over "
        f"{args.ramp:g} s, {args.duration} s each: {rate:,.0f} req/s, "
        f"{completed:,} requests = {completed / ideal:.2f}x Little's law ({ideal:,}), "
        f"{sum(r['errors'] for r in results)} errors, "
        f"p50 {max(p50s, default=0):.2f} s, p99 {max(p99s, default=0):.2f} s (slowest wrk)"
    )


if __name__ == "__main__":
    main()
