#!/usr/bin/env python3
"""moto_server, applying one request at a time.

moto rolls back a failed DynamoDB transaction by restoring a snapshot of the table,
which also undoes what other threads wrote in the meantime. DynamoDB itself runs
transactions serializably, so the tests serialize requests to get the same guarantee
(the store contract test `fifty_concurrent_transactions...` and the 200-buyer rush
would otherwise see moto, not our code, oversell).

Usage: moto_serial.py HOST PORT
"""
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


class Serialized:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            # Buffer the whole response inside the lock: moto builds it from shared state.
            body = b"".join(self.app(environ, start_response))
        return [body]


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, Serialized(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
