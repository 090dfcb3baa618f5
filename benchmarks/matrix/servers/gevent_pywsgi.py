"""gevent's own WSGI server with monkey.patch_all(), exactly as the seed article shows it
(one process, no psycogreen: psycopg2 still blocks the loop on every query)."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402

from api.app import create_app  # noqa: E402

if __name__ == "__main__":
    app = create_app({"METRICS_ENABLED": False})
    WSGIServer(("127.0.0.1", int(sys.argv[1])), app, log=None).serve_forever()
