"""``POST /api/activations`` for integrations, and ``python -m bot activate`` for operators.

Both end in ``BenefitsService.mark_activated`` (idempotent), whose ``activation`` event puts the
notifications in the outbox. The endpoint is off (503) unless ``ACTIVATIONS_SECRET`` is set; it
wants ``Authorization: Bearer <secret>`` (compared in constant time) and, when an
``X-Signature: sha256=<hex>`` header is present, an HMAC-SHA256 of the body under the same secret.
Bodies are validated field by field and refused with 400 naming the field.

The CLI writes the data folder directly when the bot is not running (the worker sends the
notifications at the next start); while the bot runs the folder is locked, so the CLI posts to the
running bot on 127.0.0.1 with the configured secret instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import urllib.request
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import web

from bot import keys
from bot.loopback import call_running_bot
from bot.operator.bearer import authenticated, sign
from bot.settings import Settings
from domain import errors
from domain.errors import RuleViolation
from services.benefits import Activation, BenefitsService

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024


class BadRequest(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ActivationRequest:
    target_id: str
    is_assignment: bool
    activated_on: date
    expires_on: date | None
    event_id: str | None


def _date(body: dict[str, Any], name: str, required: bool) -> date | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(name, f"{name} is required (YYYY-MM-DD)" if required else f"{name} must be YYYY-MM-DD or null")
    try:
        if len(value.strip()) != 10:
            raise ValueError
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(name, f"{name} is not a date: use YYYY-MM-DD") from None


def parse_activation(body: Any) -> ActivationRequest:
    """Validate a request body; ``BadRequest`` names the first field at fault."""
    if not isinstance(body, dict):
        raise BadRequest("$", "the body must be a JSON object")
    benefit_id, assignment_id = body.get("benefit_id"), body.get("assignment_id")
    if benefit_id is not None and assignment_id is not None:
        raise BadRequest("benefit_id", "give benefit_id or assignment_id, not both")
    if benefit_id is None and assignment_id is None:
        raise BadRequest("benefit_id", "benefit_id or assignment_id is required")
    name = "benefit_id" if benefit_id is not None else "assignment_id"
    target = benefit_id if benefit_id is not None else assignment_id
    if not isinstance(target, str) or not target.strip() or len(target) > 200:
        raise BadRequest(name, f"{name} must be a non-empty string")
    activated_on = _date(body, "activated_on", required=True)
    assert activated_on is not None
    expires_on = _date(body, "expires_on", required=False) if "expires_on" in body else None
    event_id = body.get("event_id")
    if event_id is not None and (not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 200):
        raise BadRequest("event_id", "event_id must be a non-empty string of at most 200 characters")
    return ActivationRequest(target.strip(), assignment_id is not None, activated_on, expires_on, event_id)


async def activate(service: BenefitsService, req: ActivationRequest) -> Activation:
    """Check the target exists as the kind named, then mark it activated (as an integration)."""
    repo = service.repo
    if req.is_assignment and repo.assignment(req.target_id) is None:
        raise RuleViolation(errors.NOT_ASSIGNED, id=req.target_id)
    if not req.is_assignment and repo.benefit(req.target_id) is None:
        raise RuleViolation(errors.UNKNOWN_BENEFIT, id=req.target_id)
    return await service.mark_activated(None, req.target_id, req.activated_on, req.expires_on, req.event_id)


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    return web.json_response(body, status=status)


def activation_body(activation: Activation) -> dict[str, Any]:
    return {"changed": activation.changed, "event_id": activation.event_id, "status": activation.status.value,
            "benefit_id": activation.benefit.id,
            "assignment_id": activation.assignment.id if activation.assignment else None,
            "activated_on": activation.activated_on.isoformat(),
            "expires_on": activation.expires_on.isoformat() if activation.expires_on else None,
            "recipients": len(activation.recipients)}


async def post_activations(request: web.Request) -> web.Response:
    settings: Settings = request.app[keys.SETTINGS]
    secret = settings.activations_secret
    if not secret:
        return _error(503, "the activations endpoint is disabled: set ACTIVATIONS_SECRET to enable it")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _error(413, f"the body must be at most {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return _error(413, f"the body must be at most {MAX_BODY} bytes")
    if not authenticated(secret, request.headers.get("Authorization", ""), request.headers.get("X-Signature"), raw):
        log.warning("activation refused: not authenticated", extra={"remote": request.remote})
        return web.json_response({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _error(400, "the body is not JSON", "$")
    try:
        req = parse_activation(body)
    except BadRequest as exc:
        return _error(400, exc.message, exc.field)
    try:
        activation = await activate(request.app[keys.SERVICE], req)
    except RuleViolation as violation:
        if violation.code in (errors.UNKNOWN_BENEFIT, errors.NOT_ASSIGNED):
            field = "assignment_id" if req.is_assignment else "benefit_id"
            return _error(404, f"no such {field.removesuffix('_id')}: {req.target_id}", field)
        if violation.code == errors.INVALID_DATE:
            return _error(400, "expires_on must come after activated_on", "expires_on")
        if violation.code == errors.NOT_PENDING:
            return _error(409, f"not pending activation (status: {violation.params.get('status')})")
        return _error(409, violation.code)
    log.info("activation recorded", extra={"target": req.target_id, "changed": activation.changed})
    return web.json_response(activation_body(activation))


# --- the CLI subcommand -------------------------------------------------------------------------------
def add_cli(sub: Any) -> None:
    cmd = sub.add_parser("activate", help="mark a pending benefit or assignment activated (notifies people)")
    target = cmd.add_mutually_exclusive_group(required=True)
    target.add_argument("--benefit", metavar="ID")
    target.add_argument("--assignment", metavar="ID")
    cmd.add_argument("--on", required=True, metavar="YYYY-MM-DD", help="activation date")
    cmd.add_argument("--expires", metavar="YYYY-MM-DD", help="expiry date (none when omitted)")


def _cli_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"activated_on": args.on, "expires_on": args.expires}
    body["benefit_id" if args.benefit else "assignment_id"] = args.benefit or args.assignment
    return body


def _print_result(result: dict[str, Any]) -> None:
    what = "activated" if result["changed"] else "already activated with these dates; nothing changed"
    print(f"{result.get('assignment_id') or result['benefit_id']}: {what}; "
          f"{result['recipients']} people to notify")


async def cmd_activate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.stores import domain_store, storage_config
    from services.notifications import Outbox
    from services.notifications.events import NotificationListener
    from services.storage.lock import DataFolderBusy

    body = _cli_body(args)
    try:
        req = parse_activation(body)
    except BadRequest as exc:
        print(f"error: {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    try:
        async with domain_store(settings) as store:
            service = BenefitsService(store)
            NotificationListener(service, Outbox(store)).subscribe()
            try:
                activation = await activate(service, req)
            except RuleViolation as violation:
                print(f"error: {violation.code} {violation.params}", file=sys.stderr)
                return 1
            _print_result(activation_body(activation))
            print("the bot's instances send the notifications" if storage_config(settings) is not None
                  else "the bot is not running: the notifications go out when it starts")
            return 0
    except DataFolderBusy:
        return post_to_running_bot(settings, body)


def post_to_running_bot(settings: Settings, body: dict[str, Any]) -> int:
    """The bot holds the data folder: hand the activation to it over loopback."""
    if not settings.activations_secret:
        print("error: the bot is running and ACTIVATIONS_SECRET is not set, so it cannot take the activation; "
              "set it (and restart the bot) or stop the bot and run this again", file=sys.stderr)
        return 3
    raw = json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.port}/api/activations", data=raw, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.activations_secret}",
                 "X-Signature": sign(settings.activations_secret, raw)})
    answer = call_running_bot(request, settings.port, timeout=30)
    if isinstance(answer, int):
        return answer
    result = json.loads(answer)
    _print_result(result)
    print("sent to the running bot: it is notifying people now")
    return 0
