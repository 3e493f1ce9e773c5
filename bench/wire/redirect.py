"""Following a Redis Cluster's MOVED and ASK replies on the harness's raw per-node connections.

Every raw connection serves one hash tag, a shard's or the global keys' (bench/keys.py), so one
slot. A MOVED says that slot now lives on another master for good: the connection itself moves
there (redis-py reconnects to ``conn.host:conn.port`` on the next send), which is what a cluster
client's slot-map refresh amounts to for a connection that only ever asks about one slot. An ASK
says the slot is half-way through a migration and this key already left: the one command goes to
the importing node behind ``ASKING``, on a side connection kept for the next ASK, and the
connection stays where it is.

Either way the command is sent again as it was packed, and the redirect is counted on the
connection's ByteCounter: redirects are data (``redirects_per_request``), not noise. Outside a
cluster no server replies MOVED or ASK, and the happy path pays only an ``except`` clause.

Commands, as Redis counts them: a redirected command is rejected before it runs (valkey 8.1's
``total_commands_processed`` and ``cmdstat_*.calls`` skip it), so the send counted once stays one
command; ``ASKING`` is one more, and in a redirected pipeline so is each reply that was not a
redirect (MULTI and EXEC run, the keyed commands between them do not).
"""

from __future__ import annotations

from typing import Any

from redis.connection import AbstractConnection
from redis.exceptions import AskError, MovedError, ResponseError

from bench.wire.counting import CountingConnection

REDIRECTS = (AskError, MovedError)
# A slot moved twice while one command chased it is rare; a loop of redirects is a broken cluster.
MAX_REDIRECTS = 5


class RedirectLoopError(ResponseError):
    """A command was redirected more than MAX_REDIRECTS times in a row."""


def read_one(conn: AbstractConnection, packed: list[bytes]) -> Any:
    """The reply to the one command ``packed``, already sent on ``conn``; a MOVED or ASK followed."""
    try:
        return conn.read_response()
    except REDIRECTS as redirect:
        return follow(conn, packed, 1, redirect)[0]


def read_pipeline(conn: AbstractConnection, packed: list[bytes], commands: int) -> list[Any]:
    """The replies to ``packed`` (``commands`` commands already sent on ``conn``), redirects followed.

    Every reply is read before following, so nothing is left on the socket: after a redirect inside
    a MULTI, EXEC's EXECABORT is expected and dropped. An error before any redirect is raised as is.
    """
    replies: list[Any] = []
    redirect: AskError | MovedError | None = None
    ran = 0  # replies that were not redirects: commands Redis executed
    for _ in range(commands):
        try:
            replies.append(conn.read_response())
            ran += 1
        except REDIRECTS as exc:
            redirect = redirect or exc
        except ResponseError:
            if redirect is None:
                raise
            ran += 1
    if redirect is None:
        return replies
    return follow(conn, packed, commands, redirect, ran=ran)


def follow(
    conn: AbstractConnection,
    packed: list[bytes],
    commands: int,
    redirect: AskError | MovedError,
    *,
    ran: int = 0,
) -> list[Any]:
    """Send ``packed`` where ``redirect`` points; its ``commands`` replies.

    Args:
        ran: commands of the first attempt Redis executed anyway (counted as commands again).
    """
    if not isinstance(conn, CountingConnection):
        raise redirect  # only the harness's own connections know how to reach another node
    conn.counter.commands += ran
    for _ in range(MAX_REDIRECTS):
        conn.counter.redirects += 1
        if isinstance(redirect, MovedError):
            conn.disconnect()
            conn.host, conn.port = redirect.host, int(redirect.port)
            target, prefix = conn, []
        else:
            target = conn.sibling(redirect.host, int(redirect.port))
            prefix = target.pack_command("ASKING")
            conn.counter.commands += 1
        try:
            target.send_packed_command(prefix + packed, check_health=False)
            if prefix:
                target.read_response()
            return [target.read_response() for _ in range(commands)]
        except REDIRECTS as exc:
            # The slot moved again on the way: drop what is left of the replies, chase it once more.
            target.disconnect()
            redirect = exc
        except BaseException:
            target.disconnect()
            raise
    raise RedirectLoopError(f"redirected more than {MAX_REDIRECTS} times, last: {redirect}")
