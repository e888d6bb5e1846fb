"""Flood control: at most ``limit`` messages per user in any ``window`` seconds. Pure.

``FloodGuard.check(user_id)`` says what to do with one more message from that user:

- ``"pass"``: under the limit; handle it;
- ``"notice"``: the first message over the limit; tell the user once, in their language, to
  slow down, and do not handle it;
- ``"drop"``: over the limit and already told; ignore it silently.

Dropped messages do not count, so the user is served again as soon as their oldest handled
message is ``window`` seconds old. Only handled messages reach the matcher, the database and
(later) the volunteers' topic, so one person cannot flood any of them. The counters live in
memory (a restart forgets them) and users idle for a window are swept away, so memory stays
proportional to the people writing right now.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

Verdict = Literal["pass", "notice", "drop"]

#: Seconds of the sliding window.
WINDOW = 60.0


class FloodGuard:
    """Per-user sliding-window limit. ``clock`` is injectable for tests (seconds, monotonic)."""

    def __init__(self, limit: int, window: float = WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError("the flood limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._noticed: set[int] = set()
        self._next_sweep = clock() + window

    def check(self, user_id: int) -> Verdict:
        """Count one message from ``user_id`` (unless it is refused) and say what to do with it."""
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        times = self._seen.setdefault(user_id, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._noticed.discard(user_id)
            return "pass"
        if user_id in self._noticed:
            return "drop"
        self._noticed.add(user_id)
        return "notice"

    def __len__(self) -> int:
        """Users currently tracked."""
        return len(self._seen)

    def _sweep(self, now: float) -> None:
        cutoff = now - self.window
        for user_id in [u for u, times in self._seen.items() if not times or times[-1] <= cutoff]:
            del self._seen[user_id]
            self._noticed.discard(user_id)
        self._next_sweep = now + self.window
