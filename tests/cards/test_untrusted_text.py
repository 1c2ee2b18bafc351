"""Untrusted text never becomes live markdown: every card and message of a session, with hostile
text in every person, benefit, package and inventory field, rendered by markdown-it (the renderer of
the Adaptive Cards JS host and the Agents Playground), has no link, image, HTML or formatting that
did not come from the catalogs, and still reads the hostile text literally. Plain-text fields
(inputs, choices, labels, buttons) show it unescaped.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from markdown_it import MarkdownIt

from cards.text import escape, markdown
from dialogs.requests import requestable
from domain.models import DownloadLink, ProductKey
from services.i18n import Translator
from tests._common.harness import ALEX, LEE, BotClient

LINK = "[Reset your password](https://evil.example/login)"
PAYLOAD = (f"{LINK} <img src=x onerror=alert(1)> **bold** _it_ `code` <https://evil.example/a> ~~gone~~ "
           "&lt;b&gt; | a | b |")
#: Catalogs and code use bold, numbered steps and links to Partner Center and to inventory downloads
#: only; anything else in a rendered token stream came from data.
LIVE = {"link_open", "image", "html_inline", "html_block", "code_inline", "s_open", "em_open", "heading_open",
        "blockquote_open", "bullet_list_open", "table_open", "fence", "code_block"}
OWN_LINKS = ("https://download.", "https://partnercenter.microsoft.com/")
RENDERER = MarkdownIt("commonmark", {"html": True}).enable(["strikethrough", "table"])
ADMIN_SCRIPT = ["help", "overview", "software", "cloud", "visual studio", "technical", "go-to-market",
                "marketing contact", "cancel", "users", "requests", "my benefits", "notifications", "activate",
                "changes sw-office", "changes pkg-gold-cloud"]


def hostile(value: str) -> str:
    return f"{value} {PAYLOAD}" if value else PAYLOAD


def live_markup(text: str) -> list[str]:
    """Markup that did not come from the catalogs or the code (see ``OWN_LINKS``)."""
    found = []
    for token in RENDERER.parse(text):
        for item in (token, *(token.children or ())):
            own_link = item.type == "link_open" and str(item.attrGet("href")).startswith(OWN_LINKS)
            if item.type in LIVE and not own_link:
                found.append(item.type)
    return found


def rendered_text(text: str) -> str:
    """What a reader sees: the inline text of every token."""
    return " ".join(child.content for token in RENDERER.parse(text) for child in token.children or ()
                    if child.type in ("text", "text_special"))


def markdown_fields(node: Any) -> list[str]:
    """Strings Teams renders as markdown: TextBlock text, FactSet titles and values."""
    out: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "TextBlock" and isinstance(node.get("text"), str):
            out.append(node["text"])
        if node.get("type") == "FactSet":
            out += [str(f.get(k, "")) for f in node.get("facts", []) for k in ("title", "value")]
        for value in node.values():
            out += markdown_fields(value)
    elif isinstance(node, list):
        for value in node:
            out += markdown_fields(value)
    return out


def plain_fields(node: Any) -> list[str]:
    """Strings shown as plain text: choice titles, input values, labels, placeholders, button titles."""
    out: list[str] = []
    if isinstance(node, dict):
        kind = str(node.get("type", ""))
        if kind.startswith("Input.") or kind.startswith("Action."):
            out += [node[k] for k in ("label", "value", "placeholder", "title") if isinstance(node.get(k), str)]
        if kind == "Input.ChoiceSet":
            out += [c["title"] for c in node.get("choices", []) if isinstance(c.get("title"), str)]
        for value in node.values():
            out += plain_fields(value)
    elif isinstance(node, list):
        for value in node:
            out += plain_fields(value)
    return out


async def make_everything_hostile(bot: BotClient) -> None:
    """Hostile text in every displayed field of the demo data (ids, emails and dates stay usable)."""
    service = bot.service
    repo = service.repo
    ops = [repo.put_person(replace(p, name=hostile(p.name))) for p in repo.people()]
    ops += [repo.put_package(replace(p, name=hostile(p.name), source_program=hostile(p.source_program)))
            for p in repo.packages()]
    for b in repo.benefits():
        ops.append(repo.put_benefit(replace(
            b, name=hostile(b.name), description=hostile(b.description),
            special_instructions=hostile(b.special_instructions), offer_type=hostile(b.offer_type) if b.offer_type
            else "",
            keys=tuple(ProductKey(k.id, hostile(k.language), hostile(k.os), k.key) for k in b.keys),
            downloads=tuple(DownloadLink(d.language and hostile(d.language), d.os and hostile(d.os),
                                         f"https://download.example/{n}?a=(b) c", hostile(d.label))
                            for n, d in enumerate(b.downloads)))))
    org = repo.organization()
    if org is not None:
        ops.append(repo.put_organization(replace(org, name=hostile(org.name))))
    await service.store.apply(ops)


async def session(bot: BotClient) -> tuple[list[dict[str, Any]], list[str]]:
    """Every card and text message of an admin's and an employee's session over the hostile data."""
    toasts: list[dict[str, Any]] = []
    invoke_cards: list[dict[str, Any]] = []

    async def click(user: dict[str, Any], verb: str, data: dict[str, Any]) -> None:
        status, body, _ = await bot.execute(user, verb, data)
        assert status == 200, (verb, body)
        if isinstance(body, dict) and body.get("type") == "application/vnd.microsoft.card.adaptive":
            invoke_cards.append(body["value"])
        elif isinstance(body, dict) and isinstance(body.get("value"), str):
            toasts.append({"text": body["value"]})

    await bot.post(bot.activity(ALEX, type="installationUpdate", action="add"))
    for text in ADMIN_SCRIPT:
        await bot.say(ALEX, text)
    repo = bot.service.repo
    office = repo.benefit("sw-office")
    assert office is not None and office.keys
    key = office.keys[0]
    await click(ALEX, "reveal_keys", {"benefit_id": office.id, "language": key.language, "os": key.os})
    await click(ALEX, "assign_user", {"benefit_id": "vs-enterprise", "person_id": LEE["aadObjectId"]})
    await click(ALEX, "assign_user", {"benefit_id": "vs-enterprise", "person_id": "nobody"})  # **users** hint
    await click(ALEX, "request_assistance", {"benefit_id": "tech-advisory"})
    await click(ALEX, "submit_assistance", {"benefit_id": "tech-advisory", "phase": "design",
                                            "topic": hostile("Topic"), "description": hostile("Help")})
    await click(ALEX, "cancel_package", {"package_id": "pkg-gold-cloud"})
    await click(ALEX, "add_user", {"new_name": LINK, "new_email": "pat@contoso.com"})
    await click(ALEX, "add_user", {"new_name": "Pat", "new_email": LINK})
    await click(ALEX, "set_marketing_contact", {"person_id": LEE["aadObjectId"], "alternate_email": LINK,
                                                "phone": PAYLOAD, "preferred_language": "en-US"})
    for text in ["help", "my benefits", "request"]:
        await bot.say(LEE, text)
    lee = repo.person(LEE["aadObjectId"])
    assert lee is not None
    [(wanted, _), *_] = requestable(bot.service, lee)
    await click(LEE, "submit_benefit_request", {"benefit_id": wanted.id, "note": hostile("Please")})
    [request] = [r for r in repo.requests() if r.description.startswith("Please")]
    await click(ALEX, "request_card", {"request_id": request.id})
    for person in repo.people():
        await click(ALEX, "recent_changes", {"subject_id": person.id})
    await bot.say(ALEX, "requests")
    await asyncio.sleep(0.5)  # proactive notifications (request submitted, assistance filed) go out
    activities = [*bot.connector.sent, *toasts]
    cards = invoke_cards + [a["content"] for act in activities for a in act.get("attachments") or []
                            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]
    texts = [a["text"] for a in activities if isinstance(a.get("text"), str) and a["text"]]
    return cards, texts


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_no_hostile_text_becomes_live_markdown_in_any_card_or_message(bot: BotClient, locale: str) -> None:
    bot.locale = locale
    await make_everything_hostile(bot)
    cards, texts = await session(bot)
    assert len(cards) >= 25
    shown = [field for card in cards for field in markdown_fields(card)] + texts
    hostile_fields = [field for field in shown if "evil" in field]
    assert len(hostile_fields) >= 40, "the walk met too little hostile text to prove anything"
    problems = [(field[:120], live_markup(field)) for field in shown if live_markup(field)]
    assert not problems, problems
    overdone = [field for field in shown if "**" in rendered_text(field).replace("**bold**", "")
                or "\\" in rendered_text(field)]
    assert not overdone, f"catalog markup was escaped: {overdone[:3]}"
    downloads = [field for field in shown if "](https://download." in field]
    assert downloads and not [f for f in downloads if "link_open" not in {c.type for t in RENDERER.parse(f)
                                                                           for c in t.children or ()}]
    literal = [field for field in hostile_fields if LINK in rendered_text(field)]
    assert len(literal) >= 30, "escaped text must still read as what was typed"
    plain = [value for card in cards for value in plain_fields(card)]
    assert any(PAYLOAD in value for value in plain), "hostile text in choices and inputs shows as typed"
    assert not [value for value in plain if "\\[" in value or "\\<" in value], "plain text was escaped"


def test_catalog_markup_is_kept_and_parameters_are_escaped() -> None:
    t = Translator("en-US")
    message = t("bot.unknown_with_hint", hint=LINK)
    assert str(message) == (f"I didn't understand that. Did you mean **{LINK}**? "
                            "Type **help** to see everything I can do.")
    rendered = markdown(message)
    assert [tok.type for tok in RENDERER.parseInline(rendered)[0].children].count("strong_open") == 2
    assert not live_markup(rendered) and LINK in rendered_text(rendered)
    nested = t("users.roles_saved", name=LINK, roles=t("roles.global_admin"))
    assert not live_markup(markdown(nested))


@pytest.mark.parametrize("text", [
    LINK, "<img src=x onerror=alert(1)>", "# heading", "- item", "1. first", "> quote", "`x`", "*a* _b_",
    "a\\*b*", "https://evil.example/x", "line\n\n- list\n   2) two", "\u202eevil\u202c", "x\r\n===",
    "| a | b |\n|---|---|",
])
def test_escaped_text_renders_as_itself(text: str) -> None:
    out = escape(text)
    assert not live_markup(out), (out, live_markup(out))
    expected = " ".join(text.replace("\u202e", "").replace("\u202c", "").replace("\r", "").split())
    assert " ".join(rendered_text(out).split()) == expected
