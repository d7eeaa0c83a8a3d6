"""The holding pen and the replication backlog on plain sockets and data: no sandbox.

What a client of a region in outage relies on: a held request gets no answer
until the outage ends (then the connection closes, so its retry can reach the
region), a client that gives up frees its slot, a reset is a reset, and the
pen never holds more than its bound.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from failover_cli.sandbox import holding
from failover_cli.sandbox.dynamodb.backlog import Backlog
from failover_cli.sandbox.holding import HoldingPen
from failover_cli.sandbox.outage_regions import Mode, Unanswered
from tests.sandbox_api_helpers import eventually

WEST = "us-west-2"


@pytest.fixture
def pen() -> Iterator[HoldingPen]:
    made = HoldingPen()
    yield made
    made.close()


def connection_pair() -> tuple[socket.socket, socket.socket]:
    """(client side, server side) of one connection."""
    client, server = socket.socketpair()
    client.settimeout(5)
    return client, server


def test_a_held_connection_gets_nothing_until_its_region_is_released(pen: HoldingPen) -> None:
    client, server = connection_pair()
    pen.take(server, Unanswered(Mode.HANG, WEST))
    assert pen.owns(server) and pen.held(WEST) == 1
    client.settimeout(0.2)
    with pytest.raises(TimeoutError):
        client.recv(1)  # no answer while the outage lasts
    pen.release("us-east-1")
    assert pen.held(WEST) == 1  # another region's end changes nothing
    pen.release(WEST)
    client.settimeout(5)
    assert client.recv(1) == b""  # closed: the client retries and meets the new state
    assert pen.held() == 0


def test_a_client_that_gives_up_frees_its_slot(pen: HoldingPen) -> None:
    client, server = connection_pair()
    pen.take(server, Unanswered(Mode.HANG, WEST))
    client.sendall(b"more bytes the pen reads and drops")
    client.close()
    eventually(lambda: pen.held() == 0, "the pen to notice the client left", deadline_s=10)


def test_refuse_resets_the_connection() -> None:
    pen = HoldingPen()
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        server, _ = listener.accept()
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")
        pen.take(server, Unanswered(Mode.REFUSE, WEST))
        with pytest.raises(ConnectionResetError):
            client.recv(1)
        assert pen.held() == 0
    finally:
        listener.close()
        pen.close()


def test_the_pen_holds_at_most_its_bound(pen: HoldingPen, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(holding, "MAX_HELD", 3)
    pairs = [connection_pair() for _ in range(5)]
    for _client, server in pairs:
        pen.take(server, Unanswered(Mode.HANG, WEST))
    assert pen.held() == 3
    try:
        got = pairs[0][0].recv(1)  # the oldest was let go (a socketpair shows a reset as EOF)
    except ConnectionResetError:
        got = b""
    assert got == b""


def test_closing_the_pen_while_its_watcher_ends_raises_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sandbox shutdown: the watcher may see the pen closed and end before close() wakes it."""
    pen = HoldingPen()
    _client, server = connection_pair()
    pen.take(server, Unanswered(Mode.HANG, WEST))
    close_socket = holding._close

    def close_after_the_watcher_ended(sock: socket.socket) -> None:
        pen._thread.join(timeout=10)  # its select times out within 1 s and sees the pen closed
        assert not pen._thread.is_alive()
        close_socket(sock)

    monkeypatch.setattr(holding, "_close", close_after_the_watcher_ended)
    pen.close()  # raised EBADF when the watcher closed the wake-up socket itself (CI, 54814ea)
    assert pen.held() == 0


def test_the_backlog_replays_writes_once_both_regions_work() -> None:
    down = {WEST}
    backlog = Backlog(lambda region: region in down)
    key = {"k": {"S": "a"}}
    assert backlog.hold_back("acct", "t", "us-east-1", [WEST, "eu-west-1"], key) == ["eu-west-1"]
    backlog.hold_back("acct", "t", "us-east-1", [WEST], key)  # the same key again: one entry
    backlog.hold_back("acct", "t", WEST, ["us-east-1"], None)  # written in the region that is down
    assert len(backlog) == 2
    assert backlog.ready() == []  # still down
    down.clear()
    ready = backlog.ready()
    assert [(p.source, p.receiver, p.attributes) for p in ready] == [
        ("us-east-1", WEST, key),
        (WEST, "us-east-1", None),
    ]
    assert len(backlog) == 0
