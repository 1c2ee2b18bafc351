"""Teams' rate limits as sliding windows: per conversation (7/1 s, 8/2 s, 60/30 s) and per app.

Several instances sending for one app (``share``: how many there are now) each keep to their share of
both: Teams counts the app's requests, and a chat's, whichever instance sends them.

A sliding window admits a send when fewer than ``limit`` sends happened in the last ``period``
seconds: exactly the shape of Teams' published limits ("7 per 1 s"), so the limiter never sends a
burst Teams would refuse, and after a pause it may catch up to the limit at once. The app-wide window
counts a request from its answer (the channel counted it at its arrival, before), so the limiter can
run at 100 % of the limit without 429s. After a restart the worker seeds the window with the requests the
previous process had answered in the last period (the outbox keeps those instants). Time is injected
(``clock``, monotonic seconds) so tests never sleep.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

#: Microsoft Learn, "Rate limiting for bots": per bot per thread.
PER_CONVERSATION: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
#: Per app per tenant, all conversations together (requests per second).
PER_APP_RPS = 50.0


class SlidingWindow:
    """At most ``limit`` events in any ``period`` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._events: deque[float] = deque()
        #: requests on the way: they hold a slot until their answer comes back
        self.reserved = 0

    def _prune(self, now: float) -> None:
        while self._events and self._events[0] <= now - self.period:
            self._events.popleft()

    def wait_time(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        self._prune(now)
        used = len(self._events) + self.reserved
        if used < self.limit:
            return 0.0
        index = used - self.limit
        if index >= len(self._events):  # every slot is a request still on the way
            return 0.001
        return max(0.0, self._events[index] + self.period - now)

    def record(self, now: float) -> None:
        self._events.append(now)

    def reserve(self) -> None:
        self.reserved += 1

    def complete(self, now: float) -> None:
        """A reserved request got its answer: it counts from now, when the server surely had it."""
        self.reserved = max(0, self.reserved - 1)
        self._events.append(now)

    @property
    def idle(self) -> bool:
        return not self._events


class RateLimiter:
    """Per-conversation windows plus the per-app window; ``hold`` parks a conversation (Retry-After)."""

    def __init__(self, per_app_rps: float = PER_APP_RPS,
                 per_conversation: Sequence[tuple[int, float]] = PER_CONVERSATION,
                 clock: Callable[[], float] = time.monotonic, answer_slack: float | None = None,
                 share: Callable[[], int] | None = None) -> None:
        self.clock = clock
        #: how many instances send for the app (each takes ``1 / share()`` of the per-app rate)
        self.share = share
        self.per_app_rps = per_app_rps
        self._shared_by = 1
        self.answer_slack = answer_slack
        self.per_conversation = tuple(per_conversation)
        # "N per second" as a window of N in 1 s; fractional rates widen the window instead.
        limit = max(1, int(per_app_rps)) if per_app_rps >= 1 else 1
        self.app = SlidingWindow(limit, limit / per_app_rps)
        self._conversations: dict[str, list[SlidingWindow]] = {}
        self._held: dict[str, float] = {}
        self._last_sweep = clock()

    def _windows(self, conversation: str) -> list[SlidingWindow]:
        windows = self._conversations.get(conversation)
        if windows is None:
            windows = self._conversations[conversation] = [
                SlidingWindow(*_share_of(n, p, self._shared_by)) for n, p in self.per_conversation]
        return windows

    def conversation_wait(self, conversation: str, now: float | None = None) -> float:
        if self.share is not None:
            self._follow_share(max(1, self.share()))
        now = self.clock() if now is None else now
        held = self._held.get(conversation, 0.0) - now
        waits = [w.wait_time(now) for w in self._conversations.get(conversation, ())]
        return max([0.0, held, *waits])

    def app_wait(self, now: float | None = None) -> float:
        if self.share is not None:
            self._follow_share(max(1, self.share()))
        return self.app.wait_time(self.clock() if now is None else now)

    def _follow_share(self, instances: int) -> None:
        """Teams counts the app's requests from every instance: each keeps to its share of the rate."""
        if instances == self._shared_by:
            return
        self._shared_by = instances
        rate = self.per_app_rps / instances
        # whole sends per second, rounded down: N windows of floor(rate) in 1 s never add up past the limit
        self.app.limit, self.app.period = (int(rate), 1.0) if rate >= 1 else (1, 1 / rate)
        # a person's chat may get notices from any instance: each keeps to its share of that chat's limits too
        for windows in self._conversations.values():
            for window, (limit, period) in zip(windows, self.per_conversation, strict=True):
                window.limit, window.period = _share_of(limit, period, instances)

    def record(self, conversation: str, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        self.record_app(now)
        self.record_conversation(conversation, now)

    def record_conversation(self, conversation: str, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        for window in self._windows(conversation):
            window.record(now)
        self._sweep(now)

    def record_app(self, now: float | None = None) -> None:
        self.app.record(self.clock() if now is None else now)

    def reserve_app(self) -> None:
        """Take an app-wide slot for a request about to leave; ``complete_app`` when it is answered.

        The slot is held (counted as used) until then: the request may arrive at any moment.
        """
        self.app.reserve()

    def release_app(self) -> None:
        """Give back a reserved slot whose request never left."""
        self.app.reserved = max(0, self.app.reserved - 1)

    def complete_app(self, now: float | None = None, sent_at: float | None = None) -> float:
        """Count an answered request from its answer (or, with ``answer_slack``, at most that long after it left).

        The channel counts a request when it ARRIVES, somewhere between its departure and its
        answer: counting it from the answer makes our window expire it no earlier than the channel's
        does (the fake connector: ``window[0] <= now - 1`` drops it, exactly as
        :class:`SlidingWindow` does), so running at 100 % of the limit draws no 429. A pause of this
        process delays reading answers and so wastes a little capacity, but only for the requests on
        the wire (the worker bounds them, ``max_in_flight``). A cap (``answer_slack``) would save that
        little and draw 429s whenever a request takes longer than the cap to arrive, which under load
        it does. Returns the instant counted.
        """
        now = self.clock() if now is None else now
        if sent_at is not None and self.answer_slack is not None:
            now = min(now, sent_at + self.answer_slack)
        self.app.reserved = max(0, self.app.reserved - 1)
        events = self.app._events
        at = max(now, events[-1]) if events else now  # never out of order
        self.app.record(at)
        return at

    def seed_app(self, instants: Sequence[float]) -> None:
        """Requests of an earlier process still counting in the channel's window (after a restart)."""
        merged = sorted([*self.app._events, *instants])
        self.app._events.clear()
        self.app._events.extend(merged)

    def hold(self, conversation: str, seconds: float, now: float | None = None) -> None:
        """Send nothing more to ``conversation`` for ``seconds`` (a 429's Retry-After)."""
        now = self.clock() if now is None else now
        self._held[conversation] = max(self._held.get(conversation, 0.0), now + seconds)

    def _sweep(self, now: float) -> None:
        """Forget conversations idle longer than the longest window (bounded memory in big fan-outs)."""
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        for conv, windows in list(self._conversations.items()):
            for window in windows:
                window.wait_time(now)  # prunes
            if all(w.idle for w in windows):
                del self._conversations[conv]
        self._held = {c: t for c, t in self._held.items() if t > now}


def _share_of(limit: int, period: float, instances: int) -> tuple[int, float]:
    """One instance's part of "``limit`` per ``period``" shared by ``instances``: whole sends, rounded down
    (the parts never add up past the limit); below one send a wider window instead."""
    part = limit / instances
    return (int(part), period) if part >= 1 else (1, period / part)
