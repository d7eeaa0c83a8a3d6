"""Connections that get no answer: held open (`hang`) or reset (`refuse`), never a thread each.

When the app raises `Unanswered`, the request handler gives its socket to the
server's `HoldingPen` and returns, so the worker thread ends at once. The pen
watches every held socket from one thread: a client that gives up (closes)
is closed here too; when the region's outage ends every socket it held is
closed, and the client's retry then gets an answer. At most MAX_HELD sockets
are held; beyond that the oldest is reset, so an endless stream of retries
cannot exhaust descriptors.

`refuse` cannot refuse the TCP connection itself (one listening port serves
every region): the socket is reset (RST, SO_LINGER 0) right after the request
head is read, which clients report as "connection reset by peer", as close to
"connection refused" as the shared port allows.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import struct
import threading
import weakref
from collections import OrderedDict
from typing import Any

from failover_cli.sandbox.outage_regions import UNANSWERED_KEY, Mode, Unanswered

log = logging.getLogger(__name__)

MAX_HELD = 256
_LINGER_RESET = struct.pack("ii", 1, 0)  # on, 0 s: close() sends RST


class HoldingPen:
    """Held sockets by region, watched by one selector thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._held: OrderedDict[socket.socket, str] = OrderedDict()  # socket -> region
        self._taken: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._wake_read, self._wake_write = socket.socketpair()
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._closed = False
        self._thread = threading.Thread(target=self._watch, name="sandbox-holding", daemon=True)
        self._thread.start()

    def take(self, connection: socket.socket, unanswered: Unanswered) -> None:
        """Own `connection` from now on: hold it or reset it."""
        with self._lock:
            self._taken.add(connection)
        if unanswered.mode is Mode.HANG:
            self._hold(connection, unanswered.region)
        else:
            _reset(connection)

    def owns(self, connection: socket.socket) -> bool:
        """Whether the server must leave `connection` alone (not shut it down)."""
        with self._lock:
            return connection in self._taken

    def held(self, region: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self._held.values() if region is None or r == region)

    def release(self, region: str) -> None:
        """Close every connection held for `region` (its outage ended or changed)."""
        with self._lock:
            released = [sock for sock, r in self._held.items() if r == region]
            for sock in released:
                self._forget(sock)
        for sock in released:
            _close(sock)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            held = list(self._held)
            for sock in held:
                self._forget(sock)
        for sock in held:
            _close(sock)
        self._wake()
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            # Only now: the watcher may still be reading the wake socket until it ends.
            _close(self._wake_read)
            _close(self._wake_write)

    def _hold(self, connection: socket.socket, region: str) -> None:
        evicted = []
        with self._lock:
            if self._closed:
                evicted.append(connection)
            else:
                connection.setblocking(False)
                self._held[connection] = region
                self._selector.register(connection, selectors.EVENT_READ)
                while len(self._held) > MAX_HELD:
                    oldest = next(iter(self._held))
                    self._forget(oldest)
                    evicted.append(oldest)
        for sock in evicted:
            _reset(sock)
        self._wake()

    def _wake(self) -> None:
        """Make the watcher look again (new socket, or closing)."""
        with contextlib.suppress(OSError):  # closed: the pen is shutting down anyway
            self._wake_write.send(b"x")

    def _forget(self, sock: socket.socket) -> None:
        """Drop `sock` from the pen; call with the lock held."""
        self._held.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)

    def _watch(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    break
            for key, _events in self._selector.select(timeout=1.0):
                sock: Any = key.fileobj
                if sock is self._wake_read:
                    self._wake_read.recv(4096)
                    continue
                self._drain(sock)
        # The wake sockets are close()'s to close, after this thread has ended: closing
        # them here raced close()'s own wake-up send (EBADF seen in CI at 54814ea).
        self._selector.close()

    def _drain(self, sock: socket.socket) -> None:
        """Read and drop what the client sends; close when it has gone."""
        try:
            gone = sock.recv(65536) == b""
        except BlockingIOError:
            return
        except OSError:
            gone = True
        if gone:
            with self._lock:
                if sock not in self._held:
                    return
                self._forget(sock)
            _close(sock)


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


def server_class() -> type[Any]:
    """werkzeug's threaded server, leaving sockets the pen owns alone."""
    from werkzeug.serving import ThreadedWSGIServer

    class HoldingServer(ThreadedWSGIServer):
        pen: HoldingPen

        def shutdown_request(self, request: Any) -> None:
            if self.pen.owns(request):
                return  # held or already reset: not ours to shut down
            super().shutdown_request(request)

    return HoldingServer


def holding_handler(base: type[Any]) -> type[Any]:
    """`base` (a werkzeug request handler) handing unanswered requests to the pen."""

    class HoldingHandler(base):
        def run_wsgi(self) -> None:
            super().run_wsgi()
            unanswered = getattr(self, "environ", {}).get(UNANSWERED_KEY)
            if unanswered is not None:
                self.close_connection = True  # never read the next request on this thread
                self.server.pen.take(self.connection, unanswered)

    return HoldingHandler
