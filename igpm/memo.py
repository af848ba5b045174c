"""What a process keeps in its own memory for a few seconds: the things
the busiest pages read on every request that are the same for everyone (an
event and its places, the event list, the open consultations).

In memory, not in the shared cache: on a loaded machine a round trip to
Redis costs as much as reading the rows again. Each process keeps its own
copy, so another process may show the old one for up to the seconds it was
kept for; ``forget`` drops this process's copy at once, for the person who
made the change.
"""

import threading
import time
from collections import OrderedDict

# Enough for every live event's page parts and card and the pages of the
# list; the oldest used goes first.
MAX_ENTRIES = 2000


class _Memory:
    """A small least-recently-used map, safe to share between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple, object] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> object | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def set(self, key: tuple, value: object) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def pop(self, key: tuple) -> None:
        with self.lock:
            self.entries.pop(key, None)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


memory = _Memory(MAX_ENTRIES)


def forget(key: tuple) -> None:
    """Drop what ``recent`` keeps under ``key`` in this process."""
    memory.pop(("recent", *key))


def recent(key: tuple, seconds: float, load):
    """What ``load()`` returned at most ``seconds`` ago in this process."""
    now = time.monotonic()
    entry = memory.get(("recent", *key))
    if entry is not None and entry[0] > now:
        return entry[1]
    value = load()
    memory.set(("recent", *key), (now + seconds, value))
    return value
