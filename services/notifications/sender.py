"""The one thing the worker needs from a channel: send a card to a stored conversation reference."""

from __future__ import annotations

from typing import Any, Protocol


class DeliveryError(Exception):
    """A send the channel refused or that failed on the way.

    ``status`` is the HTTP status (0 when no answer came back), ``code`` the channel's error code
    (``ConversationBlockedByUser``...), ``retry_after`` the seconds of a ``Retry-After`` header.
    """

    def __init__(self, status: int, code: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}".strip())
        self.status = status
        self.code = code
        self.retry_after = retry_after


class Sender(Protocol):
    async def send(self, reference: dict[str, Any], card: dict[str, Any]) -> None:
        """Deliver ``card`` to the conversation of ``reference``; raise :class:`DeliveryError` if not."""
        ...
