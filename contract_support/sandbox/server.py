"""Run the sandbox app on a loopback port in a background thread.

`SandboxServer` is what tests and fixtures use: it builds a database when
none is given, serves it with werkzeug's threaded server, and removes the
temporary files again on `stop()`.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_app, sandbox_state
from .data import build_database
from .settings import Credentials, SandboxSettings

logger = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 5.0
POLL_INTERVAL_SECONDS = 0.05

_LOG_LEVELS = {"info": logging.DEBUG, "warning": logging.WARNING, "error": logging.ERROR}


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, logging to this module's logger instead of stderr.

    The app itself logs one INFO line per request, so werkzeug's access
    lines go out at DEBUG.
    """

    def log(self, type: str, message: str, *args: object) -> None:
        logger.log(_LOG_LEVELS.get(type, logging.INFO), message.rstrip(), *args)


class SandboxServer:
    """The sandbox app served over HTTP on a loopback address, usable as a context manager."""

    def __init__(
        self,
        credentials: Credentials,
        fault: str | None = None,
        settings: SandboxSettings | None = None,
        database_path: str | os.PathLike | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.credentials = credentials
        self.fault = fault
        self.settings = settings or SandboxSettings()
        self.host = host
        self.port = port
        self._database_path = Path(database_path) if database_path is not None else None
        self._temporary_directory: str | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._app = None

    @property
    def base_url(self) -> str:
        """URL of the running server, like http://127.0.0.1:PORT."""
        if self._server is None:
            raise RuntimeError("The sandbox server is not running. Call start() first.")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def handler_errors(self) -> list[BaseException]:
        """Unexpected exceptions raised inside request handlers, oldest first."""
        if self._app is None:
            return []
        return sandbox_state(self._app).handler_errors

    def start(self) -> str:
        """Build the database if needed, start serving and return the base URL."""
        if self._server is not None:
            return self.base_url

        database_path = self._database_path
        if database_path is None:
            self._temporary_directory = tempfile.mkdtemp(prefix="sandbox-")
            database_path = Path(self._temporary_directory) / "customers.sqlite3"
            build_database(database_path)

        try:
            self._app = create_app(database_path, self.credentials, self.fault, self.settings)
            self._server = make_server(self.host, self.port, self._app, threaded=True, request_handler=_RequestHandler)
        except BaseException:
            self._remove_temporary_directory()
            raise
        self.port = self._server.server_port
        # Track request threads so server_close() waits for requests still running (a slow
        # fault mode, say) before stop() removes the database they read.
        self._server.daemon_threads = False

        # A short poll interval lets stop() return quickly: shutdown() waits
        # for the serving loop to notice it, which takes up to one interval.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL_SECONDS},
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._wait_until_accepting()
        logger.info("Sandbox started on %s with fault %s", self.base_url, self.fault)
        return self.base_url

    def stop(self) -> None:
        """Stop serving and remove the temporary database, if one was built."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(STOP_TIMEOUT_SECONDS)
            logger.info("Sandbox on %s:%d stopped", self.host, self.port)
        self._server = None
        self._thread = None
        self._remove_temporary_directory()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _wait_until_accepting(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError as error:
                if time.monotonic() >= deadline:
                    self.stop()
                    raise RuntimeError(
                        f"The sandbox server on {self.host}:{self.port} did not accept connections"
                        f" within {START_TIMEOUT_SECONDS} seconds: {error}"
                    ) from error
                time.sleep(0.05)

    def _remove_temporary_directory(self) -> None:
        if self._temporary_directory is not None:
            shutil.rmtree(self._temporary_directory, ignore_errors=True)
            self._temporary_directory = None
