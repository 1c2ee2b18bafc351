"""The Teams activity handler: who is speaking, in which language, and which action they want.

Thin by design: it resolves the person and locale of the turn, records where the person can be
reached, and hands text commands, ``Action.Submit`` payloads and ``Action.Execute`` invokes to the
action registry in ``dialogs``. Everything it answers is localized.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from http import HTTPStatus
from typing import Any

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext, UserState
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationReference
from botbuilder.schema.teams import TeamsChannelAccount

from bot import files
from bot.adapter import LOCALE_TURN_KEY, send_card
from bot.outgoing import MESSAGE_RESPONSE
from bot.roster import remember_members, sync_roster
from bot.sdk.card_memo import CardMemo
from bot.sdk.connector import serialize_model
from bot.settings import Settings
from cards.base import with_menu
from cards.help import refusal_card, welcome_card
from dialogs.actions import ActionResult
from dialogs.privacy import answers_privately, is_shared_chat
from dialogs.registry import Workflows
from dialogs.sso import SIGNIN_INVOKES, SsoGate
from dialogs.turn import Turn
from domain.errors import RuleViolation, RuleViolations
from domain.models import Person
from domain.names import display_name
from services.benefits import BenefitsService
from services.conversations import ConversationBook
from services.i18n import Translator, normalize_locale, normalize_timezone, resolve_locale
from services.identity import DirectoryError, apply_directory_roles, is_configured_admin
from services.identity.directory import Directory

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
#: ids of people the directory does not know start with this
GUEST_PREFIX = "guest:"
#: turn_state key: writes the turn started and must see durable before it is answered
PENDING_WRITES = "partner_benefits.pending_writes"


class BenefitsBot(TeamsActivityHandler):
    """Partner Benefits Bot's turn logic."""

    def __init__(self, service: BenefitsService, conversations: ConversationBook, sso_configured: bool = False,
                 *, settings: Settings | None = None, directory: Directory | None = None,
                 user_state: UserState | None = None, sso_gate: SsoGate | None = None,
                 workflows: Workflows | None = None) -> None:
        self.service = service
        self.workflows = workflows if workflows is not None else Workflows.load()
        self.conversations = conversations
        self.sso_configured = sso_configured
        self.settings = settings
        #: Entra (through Graph) or the bot's own table: who is in the organization, and their roles
        self.directory = directory
        #: the SSO gate's record of fresh sign-ins, saved at the end of each turn
        self.user_state = user_state
        #: asks for a fresh sign-in before the verbs declared ``fresh_sign_in`` (None: SSO not configured)
        self.sso_gate = sso_gate
        self.card_memo = CardMemo()  # the overview, shared read-only by everyone who sees the same data

    # --- the turn -----------------------------------------------------------------------------
    async def on_turn(self, turn_context: TurnContext) -> None:
        try:
            await self.service.store.refresh()  # a store shared by several instances: see what they wrote
            await super().on_turn(turn_context)
            if self.user_state is not None:
                await self.user_state.save_changes(turn_context)
        except BaseException:
            await _settle(turn_context, quiet=True)
            raise
        await _settle(turn_context)

    async def _turn(self, context: TurnContext) -> Turn:
        """Resolve the acting person (from the activity) and their language."""
        person = await self._person(context)
        if self.directory is not None and not person.id.startswith(GUEST_PREFIX):
            # Entra Global Administrators (cached, not per turn)
            person = await apply_directory_roles(self.service, self.directory, person,
                                                 self._configured_admins())
        prefs = self.conversations.preferences(person.id)
        locale = resolve_locale(prefs.get("language"), context.activity.locale)
        context.turn_state[LOCALE_TURN_KEY] = locale
        client_locale = normalize_locale(context.activity.locale)
        zone = client_timezone(context.activity)
        changed = (client_locale and client_locale != person.locale) or (zone and zone != person.timezone)
        if changed and self.service.repo.person(person.id) is not None:  # strangers are never stored
            # Proactive messages have no incoming activity: they use the language and zone last seen here.
            person = await self.service.remember_locale(person, client_locale or person.locale, zone)
        await self._remember(context, person)
        translator = Translator(locale, timezone=zone or person.timezone or None)
        return Turn(context, person, locale, translator, self.service, self.workflows, op_key=_op_key(context),
                    conversations=self.conversations, directory=self.directory, memo=self.card_memo.get)

    async def _person(self, context: TurnContext) -> Person:
        sender: ChannelAccount = context.activity.from_property
        repo = self.service.repo
        aad = getattr(sender, "aad_object_id", None) or ""
        known = (repo.person(aad) if aad else None) or repo.person_by("teams_id", sender.id)
        known = known or (repo.person_by("aad_object_id", aad) if aad else None)
        if known is not None:
            return known
        email = ""
        try:  # Teams knows the member's email; the Playground's mock roster answers too
            member: TeamsChannelAccount = await TeamsInfo.get_member(context, sender.id)
            email = (member.email or member.user_principal_name or "").lower()
            aad = aad or (member.aad_object_id or "")
        except Exception:
            log.info("member lookup failed", extra={"activity_id": context.activity.id})
        person = Person(id=aad or sender.id, name=display_name(sender.name or ""), email=email, aad_object_id=aad,
                        teams_id=sender.id)
        listed = await self._in_directory(context, person)
        if listed is not None:
            return await self.service.upsert_person(listed)
        # A stranger (whatever name they give) is served as an employee with no holdings and never
        # joins the people table: only the directory, an import or an admin puts people there. Their
        # id is their own, so it can never be taken for a listed person's (holdings, chats, roles).
        return replace(person, id=f"{GUEST_PREFIX}{person.id}")

    async def _in_directory(self, context: TurnContext, person: Person) -> Person | None:
        """``person`` as the directory knows them: an entry with their company email (added by an
        admin, imported, or read from a team's roster), or Microsoft Graph's entry; None if unknown."""
        if person.email and self.service.repo.person_by_email(person.email) is not None:
            return person  # merged into that entry: its ids are filled in
        if is_configured_admin(person, self._configured_admins()):
            return person  # GLOBAL_ADMINS names them: the configuration vouches for them
        directory = self.directory
        if directory is None or not person.aad_object_id or not directory.authoritative_roles:
            return None
        try:
            found = await directory.get(person.aad_object_id)
        except DirectoryError:
            log.warning("directory lookup failed", extra={"activity_id": context.activity.id})
            return None
        return replace(found, teams_id=found.teams_id or person.teams_id) if found is not None else None

    async def _remember(self, context: TurnContext, person: Person) -> None:
        if context.activity.conversation is None or context.activity.conversation.conversation_type not in (
            None, "personal"
        ):
            return  # proactive messages go to the person's 1:1 chat
        # Written while the turn goes on (readers see it at once); the turn is answered only after
        # the write is durable (see _settle), so its fsync overlaps the reply instead of preceding it.
        write = self.conversations.remember(person.id, reference_json(context.activity))
        if write is not None:
            context.turn_state.setdefault(PENDING_WRITES, []).append(write)

    # --- installs and welcomes -----------------------------------------------------------------
    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        turn = await self._turn(turn_context)
        await self._send_card(turn_context, welcome_card(turn.person, turn.t, self.sso_configured))

    async def on_teams_members_added(self, teams_members_added: list[TeamsChannelAccount], team_info: Any,
                                     turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        personal = turn_context.activity.conversation.conversation_type in (None, "personal")
        if any(m.id == bot_id for m in teams_members_added):
            if personal:
                return  # installationUpdate already greeted this person in their 1:1 chat
            await sync_roster(turn_context, self.service)  # the team's people become choosable
            turn = await self._turn(turn_context)
            await self._send_card(turn_context, welcome_card(turn.person, turn.t, self.sso_configured))
        elif not personal:
            await remember_members(self.service, teams_members_added)

    # --- messages, submits and invokes -----------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        turn = await self._turn(turn_context)
        value = turn_context.activity.value
        if isinstance(value, dict) and value.get("action"):  # Action.Submit (or a fallback of Execute)
            if self._private(turn, str(value["action"])):
                await turn_context.send_activity(await self._run_privately(turn, str(value["action"]), value))
                return
            clicked = turn_context.activity.reply_to_id
            result = await self._run(turn, str(value["action"]), value, in_card=bool(clicked))
            await self._deliver(turn, result, replace=clicked)
            return
        command = self.workflows.commands.parse(turn_context.activity.text or "")
        if command is None or command.action not in self.workflows:
            action = self.workflows.commands.suggest_action(turn_context.activity.text or "")
            hint_key = self.workflows.hint_key(action) if action else ""
            hint = turn.t(hint_key) if hint_key and turn.t.has(hint_key) else None
            key = "bot.unknown_with_hint" if hint else "bot.unknown"
            await turn_context.send_activity(turn.t(key, hint=hint or ""))
            return
        if self._private(turn, command.action):
            await turn_context.send_activity(
                await self._run_privately(turn, command.action, {"argument": command.argument}))
            return
        result = await self._run(turn, command.action, {"argument": command.argument})
        await self._deliver(turn, result)

    async def on_adaptive_card_invoke(self, turn_context: TurnContext, invoke_value: Any = None) -> Any:
        """``Action.Execute``: run the verb, answer with the card that replaces the clicked one."""
        turn = await self._turn(turn_context)
        value = turn_context.activity.value if isinstance(turn_context.activity.value, dict) else {}
        found = value.get("action")
        action: dict[str, Any] = found if isinstance(found, dict) else {}
        data = dict(action.get("data") or {}) if isinstance(action.get("data"), dict) else {}
        verb = str(action.get("verb") or data.get("action") or "")
        if self._private(turn, verb):
            # The clicked card stays as it was; the clicker alone sees where the answer went.
            automatic = value.get("trigger") == "automatic"  # a refresh of a card shown in a shared chat
            note = "" if automatic else await self._run_privately(turn, verb, data)
            return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": str(note)}
        result = await self._run(turn, verb, data, in_card=True)
        for message in result.messages:
            await self._send(turn_context, message)
        return _card_response(result.card)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        if turn_context.activity.name == "adaptiveCard/action":
            return InvokeResponse(status=HTTPStatus.OK, body=await self.on_adaptive_card_invoke(turn_context))
        if turn_context.activity.name == files.FILE_CONSENT_INVOKE:
            return await self._on_file_consent(await self._turn(turn_context))
        if turn_context.activity.name in SIGNIN_INVOKES and self.sso_gate is not None:
            return await self.sso_gate.on_signin_invoke(await self._turn(turn_context), self._resume)
        return await super().on_invoke_activity(turn_context)

    async def _resume(self, turn: Turn, name: str, data: dict[str, Any]) -> None:
        """Run an action that waited for a sign-in; its card goes out as a new message."""
        if self._private(turn, name):
            await turn.context.send_activity(await self._run_privately(turn, name, data))
            return
        await self._deliver(turn, await self._run(turn, name, data))

    def _configured_admins(self) -> tuple[str, ...]:
        return tuple(self.settings.global_admins) if self.settings is not None else ()

    def _private(self, turn: Turn, verb: str) -> bool:
        """Whether the answer goes to the person's 1:1 chat (a verb that answers only there is refused
        in place instead)."""
        workflow = self.workflows.get(verb)
        if workflow is None or workflow.personal_only:
            return False
        return answers_privately(verb, _conversation_type(turn), self.workflows.shared)

    async def _run_privately(self, turn: Turn, name: str, data: dict[str, Any]) -> str:
        """Run ``name`` and send its answer to the person's 1:1 chat; what to say in the shared chat."""
        reference = self.conversations.reference(turn.person.id)
        if reference is None:
            return turn.t("bot.open_private_chat")  # nothing ran: the answer would have nowhere to go
        result = await self._run(turn, name, data)
        failure: list[BaseException] = []

        async def send(context: TurnContext) -> None:
            try:
                if result.card is not None:
                    await self._send_card(context, result.card)
                for message in result.messages:
                    await self._send(context, message)
            except Exception as exc:  # kept from on_turn_error, which would answer in the 1:1 chat
                failure.append(exc)

        app_id = self.settings.app_id if self.settings is not None else ""
        try:
            await turn.context.adapter.continue_conversation(
                ConversationReference().deserialize(reference), send, app_id or None)
        except Exception as exc:
            failure.append(exc)
        if failure:
            log.warning("private answer not delivered", extra={"activity_id": turn.context.activity.id,
                                                               "reason": type(failure[0]).__name__})
            return turn.t("bot.open_private_chat")
        return turn.t("bot.sent_privately")

    async def _run(self, turn: Turn, name: str, data: dict[str, Any], in_card: bool = False) -> ActionResult:
        """Run an action once its declared roles allow the person; a refusal replaces the clicked
        card when there is one (so no stale message stays in the chat), else it is a message."""
        workflow = self.workflows.get(name)
        if workflow is None:
            return ActionResult(None, (turn.t("bot.unknown_action"),))
        try:
            blocked = await self._authorize(turn, name, data)
            if blocked is not None:
                return blocked
            result = await workflow.run(turn, data)
            if result.file is not None:  # offered now; made again and uploaded once accepted
                await self._send_attachment(turn.context, files.consent_card(name, data, result.file))
                result = replace(result, file=None)
            if result.card is not None and name != "help":  # every card leads back to the menu
                led = with_menu(turn.t, result.card)
                result = result if led is result.card else replace(result, card=led)
            return result
        except RuleViolation as violation:
            parts = violation.violations if isinstance(violation, RuleViolations) else [violation]
            reasons = [describe_violation(turn, v) for v in parts]
            if in_card:
                back = str(data.get("back") or "")
                return ActionResult(refusal_card(turn.t, reasons, back if turn.may(back) else None))
            return ActionResult(None, tuple(reasons))

    async def _authorize(self, turn: Turn, name: str, data: dict[str, Any]) -> ActionResult | None:
        """The server's checks before a verb runs: its chat, its roles, a fresh sign-in for secrets
        (raises ``RuleViolation``; a sign-in to ask for first is the answer returned)."""
        workflow = self.workflows.get(name)
        if workflow is not None and workflow.personal_only and is_shared_chat(_conversation_type(turn)):
            raise RuleViolation("bot.only_in_personal_chat")
        self.workflows.require(turn.person, name)
        gate = self.sso_gate
        if name in self.workflows.fresh_sign_in and gate is not None:  # secrets need a fresh SSO sign-in
            blocked: ActionResult | None = await gate.check(turn, name, data)
            return blocked
        return None

    async def _on_file_consent(self, turn: Turn) -> InvokeResponse:
        """The person accepted or declined a file the bot offered: upload it, or say it was not sent."""
        answer = files.read_answer(turn.context.activity.value)
        if answer is None:
            return InvokeResponse(status=HTTPStatus.BAD_REQUEST, body={"error": "not a file the bot offered"})
        if not answer.accepted:
            await turn.context.send_activity(turn.t("bot.file_declined"))
            return InvokeResponse(status=HTTPStatus.OK)
        workflow = self.workflows.get(answer.verb)
        try:
            if workflow is None:
                raise RuleViolation("bot.file_not_offered")
            blocked = await self._authorize(turn, answer.verb, answer.data)
            result = blocked or await workflow.run(turn, answer.data)
        except RuleViolation as violation:
            await turn.context.send_activity(describe_violation(turn, violation))
            return InvokeResponse(status=HTTPStatus.OK)
        if result.file is None:
            await turn.context.send_activity(turn.t("bot.file_not_offered"))
        elif await files.upload(answer.upload_url, result.file.content):
            await self._send_attachment(turn.context, files.info_card(answer))
        else:
            await turn.context.send_activity(turn.t("bot.file_upload_failed"))
        return InvokeResponse(status=HTTPStatus.OK)

    async def _deliver(self, turn: Turn, result: ActionResult, replace: str | None = None) -> None:
        if result.card is not None:
            if replace:
                activity = MessageFactory.attachment(CardFactory.adaptive_card(result.card))
                activity.id = replace
                try:
                    await turn.context.update_activity(activity)
                except Exception:
                    await turn.context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(result.card)))
            else:
                await send_card(turn.context, result.card)
        for message in result.messages:
            await self._send(turn.context, message)

    @staticmethod
    async def _send(context: TurnContext, message: str | dict[str, Any]) -> None:
        if isinstance(message, dict):
            await send_card(context, message)
        else:
            await context.send_activity(message)

    @staticmethod
    async def _send_attachment(context: TurnContext, attachment: Any) -> None:
        await context.send_activity(MessageFactory.attachment(attachment))

    @staticmethod
    async def _send_card(context: TurnContext, card: dict[str, Any]) -> None:
        await send_card(context, card)


async def _settle(context: TurnContext, quiet: bool = False) -> None:
    """Wait for the writes a turn started in the background; their failure fails the turn (unless
    ``quiet``: the turn already failed, and the write's failure is logged instead).

    Each write is awaited in turn, not gathered: one that is already durable (the usual case, its
    fsync overlapped the reply) then costs nothing, where a gather would take another loop pass.
    """
    writes: list[asyncio.Future[Any]] = context.turn_state.pop(PENDING_WRITES, [])
    failure: BaseException | None = None
    for write in writes:
        try:
            await write
        except Exception as exc:  # every write is waited for before the first failure is raised
            failure = failure or exc
            if quiet:
                log.error("a write of a failed turn failed too", extra={"activity_id": context.activity.id,
                                                                        "reason": type(exc).__name__})
    if failure is not None and not quiet:
        raise failure


def describe_violation(turn: Turn, violation: RuleViolation) -> str:
    """A refusal in the user's language; "not an admin" also names who the admins are."""
    params = dict(violation.params)
    if turn.workflows.is_role_refusal(violation.code):
        admins = turn.service.admins(turn.locale)
        params["admins"] = ", ".join(p.name for p in admins) or turn.t("errors.no_admins_known")
    return turn.t(violation.code, **params)


def reference_json(activity: Activity) -> dict[str, Any]:
    """The serialized conversation reference of ``activity`` without ``activityId``.

    ``TurnContext.get_conversation_reference`` without its copies of the accounts and the conversation
    (serializing only reads them). The id of the activity being answered changes every turn and a
    proactive message needs none: without it the reference changes only when the chat does, so a turn
    costs no disk write.
    """
    texts = (("channelId", activity.channel_id), ("locale", activity.locale), ("serviceUrl", activity.service_url))
    if any(value is not None and type(value) is not str for _, value in texts):  # msrest decides (an enum...)
        reference: dict[str, Any] = serialize_model(ConversationReference(
            user=activity.from_property, bot=activity.recipient, conversation=activity.conversation,
            channel_id=activity.channel_id, locale=activity.locale, service_url=activity.service_url,
        ), "ConversationReference")
        reference.pop("activityId", None)
        return reference
    reference = {}  # the model's keys in its order, without building the model first (every turn)
    for key, account, type_name in (("user", activity.from_property, "ChannelAccount"),
                                    ("bot", activity.recipient, "ChannelAccount"),
                                    ("conversation", activity.conversation, "ConversationAccount")):
        if account is not None:
            reference[key] = serialize_model(account, type_name)
    reference.update((key, value) for key, value in texts if value is not None)
    return reference


def _conversation_type(turn: Turn) -> str | None:
    conversation = turn.context.activity.conversation
    return conversation.conversation_type if conversation else None


def _op_key(context: TurnContext) -> str | None:
    """Redelivered activities keep their id; a card click's nonce (if any) identifies the click."""
    activity: Activity = context.activity
    value = activity.value if isinstance(activity.value, dict) else {}
    data: Any = value
    if activity.type == ActivityTypes.invoke:
        action = value.get("action")  # an object for a card's click; a file consent's is a word
        data = action.get("data") if isinstance(action, dict) else None
    nonce = data.get("nonce") if isinstance(data, dict) else None
    if nonce:
        return f"click:{activity.from_property.id}:{nonce}"
    return f"activity:{activity.id}" if activity.id else None


def _card_response(card: dict[str, Any] | None) -> dict[str, Any]:
    """The ``adaptiveCard/action`` response body: the card to show, or a 200 with no change."""
    if card is None:
        return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": ""}
    return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": card}


def client_timezone(activity: Activity) -> str | None:
    """The person's time zone as Teams sends it: ``clientInfo.timezone``, else ``localTimezone``.

    Only a name the standard library knows is kept (anything else is ignored, never stored).
    """
    for entity in activity.entities or []:
        props = getattr(entity, "additional_properties", None) or {}
        kind = getattr(entity, "type", None) or props.get("type")
        if kind == "clientInfo":
            zone = normalize_timezone(props.get("timezone") or getattr(entity, "timezone", None))
            if zone:
                return zone
    return normalize_timezone(getattr(activity, "local_timezone", None))
