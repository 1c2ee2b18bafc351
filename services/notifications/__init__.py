"""Proactive notifications, free of botbuilder: a durable outbox, rate limits, a worker, reminders.

A notification is written to the ``outbox`` table before anything is sent, under an id that IS its
dedupe key (event id + recipient), so re-running whatever produced it re-creates the same ids and
nobody is told twice. A worker drains the outbox through a :class:`Sender` (the bot layer's
``continue_conversation`` in production, a plain HTTP client in the benchmark), within Teams' rate
limits, retrying what Teams asks to be retried and recording who cannot be reached.
"""

from services.notifications.outbox import (
    DELIVERED,
    GIVEN_UP,
    PENDING,
    SENDING,
    UNDELIVERABLE,
    Notification,
    Outbox,
    dedupe_key,
)
from services.notifications.ratelimit import RateLimiter, SlidingWindow
from services.notifications.sender import DeliveryError, Sender
from services.notifications.worker import RetryPolicy, Worker

__all__ = [
    "DELIVERED", "GIVEN_UP", "PENDING", "UNDELIVERABLE", "DeliveryError", "Notification", "Outbox", "RateLimiter",
    "RetryPolicy", "SENDING", "Sender", "SlidingWindow", "Worker", "dedupe_key",
]
