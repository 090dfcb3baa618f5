"""TCP connection attempts from inside a container's network namespace (test_security.py runs
this file's source there with `python -c`): standard library only.

    python netprobe.py HOST:PORT ...   # prints JSON: [{"target", "address", "outcome"}, ...]

outcome is "connected", "no such name" (the name does not resolve there), or the errno name of
the failed connect: ECONNREFUSED, ENETUNREACH (no route: the source has no gateway), ETIMEDOUT
(no answer within TIMEOUT_S: the SYN went out, no reply came back).
"""

import errno
import json
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

TIMEOUT_S = 2


def attempt(target: str) -> dict:
    host, port = target.rsplit(":", 1)
    result = {"target": target, "address": None}
    try:
        infos = socket.getaddrinfo(host, int(port), socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror:
        return {**result, "outcome": "no such name"}
    address = infos[0][4]
    result["address"] = address[0]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT_S)
        try:
            sock.connect(address)
        except TimeoutError:
            return {**result, "outcome": "ETIMEDOUT"}
        except OSError as exc:
            return {**result, "outcome": errno.errorcode.get(exc.errno, str(exc))}
    return {**result, "outcome": "connected"}


if __name__ == "__main__":
    with ThreadPoolExecutor(max_workers=32) as pool:
        print(json.dumps(list(pool.map(attempt, sys.argv[1:]))))
