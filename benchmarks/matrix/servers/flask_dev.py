"""Flask's development server, as the seed article runs it: `app.run(threaded=True)` or
`app.run(processes=N)` (one forked process per request, at most N at once)."""

import sys

from api.app import create_app

if __name__ == "__main__":
    port, mode = int(sys.argv[1]), sys.argv[2]
    app = create_app({"METRICS_ENABLED": False})
    if mode == "threaded":
        app.run("127.0.0.1", port, threaded=True)
    else:
        app.run("127.0.0.1", port, threaded=False, processes=int(mode.removeprefix("processes=")))
