"""Waiting for work with a deadline: the whole of it, not each step.

Socket timeouts bound each read, so a server that drips a byte a second never times out;
a query engine busy on a cartesian product never reads at all. :func:`within` runs the
work in a thread of its own and waits for it at most so long.

>>> within(1.0, lambda: 6 * 7, timed_out=lambda: TimeoutError("late"))
42
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def within(seconds: float | None, work: Callable[[], T], *, timed_out: Callable[[], BaseException]) -> T:
    """Run ``work``, giving up after ``seconds`` (``None`` or 0: no limit).

    The engines and sockets release Python's lock while they wait, so the caller's thread
    gets to notice the deadline. Work past its deadline is abandoned, not stopped: it
    ends with the process (the CLI exits at once, releasing the store) or when its own
    socket timeout ends it.

    Raises:
        The exception ``timed_out()`` returns, when time runs out; else whatever ``work`` raised.
    """
    if not seconds:
        return work()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the waiting thread
            # Without its frames: result objects must be freed in this thread (pyoxigraph's are bound to
            # the thread that made them).
            error.__context__ = error.__cause__ = None
            outcome["error"] = error.with_traceback(None)

    worker = threading.Thread(target=run, name="kg-deadline", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise timed_out()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
