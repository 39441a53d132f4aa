#!/usr/bin/env python3
"""moto_server, applying one request at a time.

moto rolls back a failed DynamoDB transaction by restoring a snapshot of the table,
which also undoes what other threads wrote in the meantime. DynamoDB itself runs
transactions serializably, so the tests serialize requests to get the same guarantee
(the store contract test `fifty_concurrent_transactions...` and the 200-buyer rush
would otherwise see moto, not our code, oversell).

It also makes moto's transaction backup copy each table once per transaction instead
of once per write in it (same backup, as every copy is taken before any write runs): a
100-write transaction on a large table otherwise makes 100 deep copies of it.

Usage: moto_serial.py HOST PORT
"""
import copy
import sys
import threading

import moto.dynamodb.models as dynamodb_models

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


class CopyTablesOnce:
    """The `copy` module as moto's DynamoDB models see it during one transaction: a
    table is deep-copied once, later copies of it are that same backup."""

    def __init__(self):
        self.tables = {}

    def deepcopy(self, obj, *args, **kwargs):
        if isinstance(obj, dynamodb_models.Table):
            if id(obj) not in self.tables:
                self.tables[id(obj)] = copy.deepcopy(obj)
            return self.tables[id(obj)]
        return copy.deepcopy(obj, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(copy, name)


_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    # Requests are serialized (see Serialized), so swapping the module is safe.
    dynamodb_models.copy = CopyTablesOnce()
    try:
        return _transact_write_items(self, transact_items)
    finally:
        dynamodb_models.copy = copy


dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, Serialized(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
