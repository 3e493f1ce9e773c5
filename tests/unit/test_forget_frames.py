"""A failed command leaves no reference cycle once forget_frames ran: reference counting frees it."""

from __future__ import annotations

import gc
import weakref

import redis

from bench.wire.failure import forget_frames


class Marker:
    """Something the failing frame holds, to see when that frame is freed."""


def _fail(seen: list[weakref.ref[Marker]]) -> None:
    marker = Marker()
    seen.append(weakref.ref(marker))
    try:
        raise redis.TimeoutError("Timeout reading from socket")
    except redis.TimeoutError as exc:
        error = exc  # the frame holds the error, the error's traceback the frame: as redis-py's retry does
        raise error from None


def _caught(seen: list[weakref.ref[Marker]]) -> Exception:
    try:
        _fail(seen)
    except redis.TimeoutError as exc:
        return exc
    raise AssertionError("did not fail")


def test_without_it_the_failure_waits_for_the_cyclic_gc_and_with_it_goes_at_once() -> None:
    gc.disable()
    try:
        kept: list[weakref.ref[Marker]] = []
        error = _caught(kept)
        del error
        assert kept[0]() is not None  # only a collection would free it
        gc.collect()
        assert kept[0]() is None

        freed: list[weakref.ref[Marker]] = []
        error = _caught(freed)
        forget_frames(error)
        assert str(error) == "Timeout reading from socket"  # the message stays for the report
        del error
        assert freed[0]() is None
    finally:
        gc.enable()
