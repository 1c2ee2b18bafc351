"""Files for a person, through Teams' file consent (the 1:1 chat only).

A workflow answers with ``ActionResult(file=FileResult(...))``; the bot sends a FileConsentCard
naming the file and its size. When the person accepts, Teams sends a ``fileConsent/invoke`` with
``action: accept`` and ``uploadInfo`` (where to put the file, in the person's OneDrive); the bot
runs the same verb again with the same data, its role checked again, and PUTs the bytes of that
fresh answer to ``uploadInfo.uploadUrl``, then sends a FileInfoCard pointing at the uploaded file.
Declining leaves a short note. Nothing is kept between the offer and the answer, so any instance
may take the answer and the file holds what is true when it is made; a verb that answers with a
file therefore only reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout
from botbuilder.schema import Attachment

from dialogs.actions import FileResult

log = logging.getLogger(__name__)

FILE_CONSENT_INVOKE = "fileConsent/invoke"
CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
#: longest a file's upload may take
UPLOAD_TIMEOUT_S = 60.0
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True)
class ConsentAnswer:
    """A ``fileConsent/invoke``'s value, checked: what was accepted or declined, and where to upload."""

    accepted: bool
    verb: str
    data: dict[str, Any]
    upload_url: str = ""
    content_url: str = ""
    name: str = ""
    unique_id: str = ""
    file_type: str = ""


def consent_card(verb: str, data: dict[str, Any], file: FileResult) -> Attachment:
    """The FileConsentCard offering ``file``; its context brings the verb and data back."""
    context = {"verb": verb, "data": {k: v for k, v in data.items() if k != "action"}}
    return Attachment(content_type=CONSENT_CARD, name=file.name, content={
        "description": file.description, "sizeInBytes": len(file.content),
        "acceptContext": context, "declineContext": context,
    })


def info_card(answer: ConsentAnswer) -> Attachment:
    """The FileInfoCard of an uploaded file (Teams shows it as the file, openable in the chat)."""
    return Attachment(content_type=INFO_CARD, name=answer.name, content_url=answer.content_url,
                      content={"uniqueId": answer.unique_id, "fileType": answer.file_type})


def read_answer(value: Any) -> ConsentAnswer | None:
    """The answer in a ``fileConsent/invoke``'s value, or None when it is not one the bot offered."""
    if not isinstance(value, dict) or value.get("action") not in ("accept", "decline"):
        return None
    context = value.get("context")
    if not isinstance(context, dict) or not isinstance(context.get("verb"), str):
        return None
    given = context.get("data")
    data: dict[str, Any] = given if isinstance(given, dict) else {}
    if value["action"] == "decline":
        return ConsentAnswer(False, context["verb"], data)
    info = value.get("uploadInfo")
    if not isinstance(info, dict):
        return None
    fields = {name: info.get(key) for name, key in (("upload_url", "uploadUrl"), ("content_url", "contentUrl"),
                                                    ("name", "name"), ("unique_id", "uniqueId"),
                                                    ("file_type", "fileType"))}
    if not all(isinstance(v, str) for v in fields.values()) or not uploadable(str(fields["upload_url"])):
        return None
    return ConsentAnswer(True, context["verb"], data, **{k: str(v) for k, v in fields.items()})


def uploadable(url: str) -> bool:
    """An upload goes over HTTPS (plain HTTP only to this machine, for local clients and tests)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)


async def upload(url: str, content: bytes) -> bool:
    """PUT the whole file in one range (what Teams' upload session takes for a small file)."""
    size = len(content)
    headers = {"Content-Range": f"bytes 0-{size - 1}/{size}"}
    try:
        async with ClientSession(timeout=ClientTimeout(total=UPLOAD_TIMEOUT_S)) as session:
            async with session.put(url, data=content, headers=headers) as response:
                if response.status in (200, 201):
                    return True
                log.warning("file upload refused", extra={"status": response.status})
    except (ClientError, TimeoutError) as error:
        log.warning("file upload failed", extra={"reason": type(error).__name__})
    return False
