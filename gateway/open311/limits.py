"""Per-key (or per-address) request limits of the API, in this process."""

from __future__ import annotations

import time
from collections import defaultdict, deque


class RateLimiter:
    """A sliding one-minute window per key (or per address without a key), in this process."""

    def __init__(self, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        """Start with empty windows."""
        self.clock = clock
        self.hits: dict[str, deque[float]] = defaultdict(deque)

    def wait(self, who: str, per_minute: int) -> float:
        """Return 0 and count the hit, or the seconds to wait when the window is full."""
        now = self.clock()
        window = self.hits[who]
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= per_minute:
            return 60 - (now - window[0])
        window.append(now)
        return 0.0
