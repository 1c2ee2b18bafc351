"""A person who clicks every button: a bounded breadth-first walk of the bot's cards in Chromium.

The walk starts at the menu and clicks, on the card as the Playground renders it, every button of
every kind of card it reaches, once as the card is rendered and once more with the button's own form
filled plausibly. It records what a person would stumble on:

- a click that sends nothing (no request to the Playground, no visible change, no link opened);
- a validation error on an input of *another* form (the renderer validates every input of the card
  by default, so a required field elsewhere blocks the button), or on the button's own inputs once
  they are filled;
- a card reached by a click that offers no way back to the menu, or to the card the person came from;
- a message over Teams' recommended 80 KB (UTF-16);
- two buttons of one card with the same accessible name (a screen reader cannot tell them apart);
- in zh-CN and zh-TW, an English word in a card (brand and product names, people, emails and URLs aside).

*Kinds* of cards and *buttons* are named by what they do, not by their words, so a Chinese card is
the twin of its English one: a card's kind is the verb that brought it, the verbs of its own buttons and
the families of its element ids (``details-cloud-…``: the Cloud list, not the Visual Studio list), or its
root ``id`` when it has one; a button's key is its action type with its verb, its toggled target, its
link's host or its sub-card's verbs. A walk in Chinese starts from the English walk's first data,
reaches every kind the English walk found in the order it found them, by what first showed it, checks
it, and clicks only the buttons its English twin did not have.

A card is reached again by sending again what first showed it (a click often replaces its card in
place, ``Action.Execute``, so the way back to a card is the way there), or, while the data is as it was
when the card was last on screen, by showing that card again. The walk's own clicks change the data (a
package cancelled, a seat removed): when a card can no longer be reached so, the bot is restarted on a
copy of its data taken just before the click that first showed it (:class:`Snapshots`). A button that
sends none of the card's inputs and sends exactly what a clicked one sent is that click again (the
renderer validates nothing for it), and is counted, not clicked; so is a button already clicked on a card
of the same look reached by another verb (the Visual Studio list, and that list again after a seat is
removed: see :func:`look`). The walk is bounded by a visited set
of (kind, button, filled), a click budget and a time budget; what a budget leaves out is reported,
never silently dropped. Each step's screenshot is kept under ``tests/e2e/screenshots/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from playwright.async_api import Page, Request, Response
from playwright.async_api import TimeoutError as PlaywrightTimeout

from services.i18n import LOCALES, Translator
from services.inventory import demo_inventory
from tests.e2e.playground import ADAPTIVE_CARD, Playground

#: Teams' recommended largest message, counted in UTF-16 code units as Teams does.
MAX_MESSAGE_BYTES = 80 * 1024
#: How long a click may take to send something before it counts as sending nothing.
SEND_WAIT_S = 3.0
#: after this long, a click whose card shows new validation errors is taken as refused by the renderer
REFUSED_AFTER_S = 0.25
#: the steps' screenshots are JPEGs: as readable as PNGs at less than half the time to take
SHOT_QUALITY = 70
#: A top-level card of the chat (sub-cards of ``Action.ShowCard`` are nested ``.ac-adaptiveCard``s).
TOP_CARD = ".ac-adaptiveCard:not(.ac-adaptiveCard .ac-adaptiveCard)"
#: The menu: typed in the composer; the bot understands it in every language.
MENU_COMMAND = "help"
#: Verbs that lead to the menu (the way back every card must offer).
MENU_VERBS = frozenset({"help", "menu"})
#: The Playground routes by which a click reaches the bot.
SEND_ROUTES = ("/_conversation/v1/invoke", "/_conversation/v1/submit", "/_conversation/v1/conversations/")

#: ASCII words a Chinese card may carry: brand and product names as Partner Center's own Chinese
#: pages write them (``/work/shared/terms.tsv``), and the demo people's names.
ALLOWED_WORDS = frozenset(w.lower() for w in """
    Microsoft Azure Visual Studio Enterprise Professional Test Platforms Partner Center Network Teams
    Dynamics Windows Server Datacenter Office SQL Power BI Platform SharePoint Exchange Outlook Intune
    GitHub Copilot Bing Maps Skype Project Visio MSDN ISV MPN PMC SaaS OS Action Pack Contoso
    Alex Wilber Megan Bowen Lee Gu Nestor Wilke Isaiah Langer Diego Siciliani Pat Kim
    """.split())
#: Terms Microsoft's Chinese pages keep whole, an English word inside them (``MPN ID``, ``Microsoft Entra ID``).
KEPT_TERMS = ("MPN ID", "Entra ID")
#: What the bot says when a turn failed on its side, in every language.
APOLOGIES = frozenset(Translator(locale)("bot.error_apology") for locale in LOCALES)
#: What a click sends when it answers a form or a confirmation rather than opens a card.
_ANSWER = re.compile(r'\\?"(nonce|confirm)\\?"\s*:')
_URL = re.compile(r"https?://[^\s)\]>\"']+|www\.[^\s)\]>\"']+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z_']*")
_CHUNK = re.compile(r"[A-Za-z0-9_'-]+")
#: Card properties a person reads (data payloads, ids and verbs are not shown).
_SHOWN = frozenset({"text", "title", "label", "placeholder", "errorMessage", "tooltip", "altText", "value",
                    "fallbackText", "speak"})

# --- in the page -------------------------------------------------------------------------------------
#: Runs before the Playground's scripts: links open nowhere but are recorded.
_INIT = """(() => {
    window.__opened = [];
    window.open = (url) => { window.__opened.push(String(url)); return null; };
    document.addEventListener('click', e => {
        const a = e.target.closest && e.target.closest('a[href]');
        if (a && !a.href.startsWith(location.origin)) { window.__opened.push(a.href); e.preventDefault(); }
    }, true);
})()"""
#: The visible buttons and inputs of the latest top-level card, numbered for the walk; for each
#: button, the inputs of its own form (the inputs of the smallest block around it that has any).
_SCAN = r"""(top) => {
    const cards = [...document.querySelectorAll(top)];
    const card = cards[cards.length - 1];
    if (!card) return null;
    const visible = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
    const INPUTS = 'input, textarea, select';
    const inputs = [...card.querySelectorAll(INPUTS)].filter(e => e.type !== 'hidden' && visible(e));
    inputs.forEach((e, i) => e.setAttribute('data-walk-input', String(i)));
    const labelOf = e => {
        const ids = (e.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
        const label = ids.map(id => document.getElementById(id)).find(x => x && x.tagName === 'LABEL');
        return (e.getAttribute('aria-label') || (label ? label.innerText : '') || e.placeholder || '').trim();
    };
    const errorOf = e => {
        const ids = (e.getAttribute('aria-labelledby') || '') + ' ' + (e.getAttribute('aria-describedby') || '');
        for (const id of ids.split(/\s+/).filter(Boolean)) {
            const x = document.getElementById(id);
            if (x && x !== e && x.tagName !== 'LABEL' && !x.contains(e) && x.classList.contains('ac-textBlock')
                && x.innerText.trim()) return x.innerText.trim();
        }
        // a people picker names no error: its message is the text block right after its input
        const box = e.closest('.ac-input-container');
        let next = box ? box.nextElementSibling : null;
        while (next && !next.classList.contains('ac-textBlock')) next = next.nextElementSibling;
        if (next && next.innerText.trim() && !next.querySelector(INPUTS)) return next.innerText.trim();
        return e.getAttribute('aria-invalid') === 'true' ? '(invalid)' : '';
    };
    const buttons = [...card.querySelectorAll('button, [role=button]')]
        .filter(b => visible(b) && !b.closest('[role=listbox], .ac-input-container'));
    const scanned = buttons.map((b, i) => {
        b.setAttribute('data-walk', String(i));
        let block = b.parentElement;
        while (block && block !== card && !inputs.some(x => block.contains(x))) block = block.parentElement;
        const own = inputs.filter(x => block && block.contains(x)).map(x => Number(x.getAttribute('data-walk-input')));
        return {index: i, name: (b.getAttribute('aria-label') || b.innerText || b.title || '').trim(), own,
                nested: b.closest('.ac-adaptiveCard') !== card};
    });
    return {
        buttons: scanned,
        inputs: inputs.map((e, i) => ({index: i, tag: e.tagName.toLowerCase(), type: e.type || '',
                                       role: e.getAttribute('role') || '', label: labelOf(e), error: errorOf(e),
                                       checked: !!e.checked, value: e.value || ''})),
        html: card.innerHTML.length + ':' + card.innerText,
        focus: document.activeElement && document.activeElement.hasAttribute('data-walk-input')
            ? Number(document.activeElement.getAttribute('data-walk-input')) : -1,
        cards: cards.length,
        opened: [...window.__opened],
    };
}"""


#: The page shows as many top-level cards as the bot sent.
_RENDERED = "([top, n]) => document.querySelectorAll(top).length >= n"


#: A link was opened.
_OPENED = "([top, was, opened]) => window.__opened.length > opened"
#: The latest card is no longer what it was.
_CHANGED = """([top, was]) => {
    const cards = document.querySelectorAll(top);
    const card = cards[cards.length - 1];
    return card && (card.innerHTML.length + ':' + card.innerText) !== was;
}"""


# --- what the walk finds ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One defect a person would meet, with where to see it."""

    role: str
    locale: str
    kind: str
    button: str
    problem: str
    screenshot: str

    def __str__(self) -> str:
        where = f"[{self.role} · {self.locale}] card {self.kind}"
        if self.button:
            where += f" → button {self.button!r}"
        return f"{where}: {self.problem}\n    screenshot: {self.screenshot}"


@dataclass
class Kind:
    """A kind of card: its signature, a readable label, and the route from the menu to it."""

    signature: str
    label: str
    keys: frozenset[str]
    route: list[Step]
    via_verb: str
    #: what the browser sent when this kind first appeared (Playground route, JSON body); None: the menu
    request: tuple[str, str] | None = None
    #: the kind whose click first showed this one (None: the menu, or reached as an English twin)
    parent: str | None = None
    #: its own buttons' verbs, whatever brought it: a card updated in place by its own form keeps its face
    face: str = ""
    #: the bot's data just before the click that first showed it (see :class:`Snapshots`)
    snapshot: str | None = None
    #: the bot's data when a card of this kind was last shown, and that card
    shown: tuple[str, dict[str, Any]] | None = None
    #: what it shows and offers, whatever brought it (see :func:`look`)
    look: str = ""

    @property
    def place(self) -> bool:
        """A card a person goes back to: reached by opening it, not as the answer to a form or a
        confirmation (a filled click, or one that sent a nonce or a confirmation)."""
        return not (self.route and self.route[-1].filled) and \
            not _ANSWER.search(self.request[1] if self.request else "")


class Snapshots(Protocol):
    """The bot's data, copied and put back: the walk's own clicks change the data (a package
    cancelled, a seat removed), so a card first seen before such a click is reached again on the data
    it was first seen on."""

    def state(self) -> str: ...

    def snapshot(self) -> str: ...

    def restore(self, name: str) -> None: ...


@dataclass(frozen=True)
class Target:
    """A button by what it does: its key and its rank among the visible buttons with that key."""

    key: str
    rank: int = 0


@dataclass(frozen=True)
class Step:
    """Reveal (toggles, sub-cards) in order, then click ``target``, its own inputs filled or not."""

    reveals: tuple[Target, ...]
    target: Target
    filled: bool = False


@dataclass
class Outcome:
    sent: bool
    new_errors: dict[int, str]
    changed: bool
    opened: list[str]
    failed_response: str = ""
    request: tuple[str, str] | None = None


@dataclass
class Team:
    """What the walkers of one person in one language share when they split the buttons between them,
    each on a stack of its own (one walker is a team of one): a step is clicked by the walker that
    takes it first, a kind reached once, a leave button's request sent once; the verbs seen to open
    each card serve every walker's ways back."""

    #: the steps taken: (kind, what the step reveals and clicks, filled)
    taken: set[tuple[str, str, bool]] = field(default_factory=set)
    #: the kinds a Chinese walker reached (the others go on to the rest)
    reached: set[str] = field(default_factory=set)
    #: the keys of the buttons clicked (what a Chinese walk need not click again)
    clicked: set[str] = field(default_factory=set)
    #: what the leave buttons clicked sent (see :func:`leave_identity`)
    leaves_clicked: set[str] = field(default_factory=set)
    #: the steps clicked on a card of each look (see :func:`look`): (look, step, filled)
    looks_clicked: set[tuple[str, str, bool]] = field(default_factory=set)
    #: a card's face → the verbs seen show it
    openers: dict[str, set[str]] = field(default_factory=dict)
    #: a card's face → the verbs seen open it (not as the answer to a form or a confirmation)
    place_openers: dict[str, set[str]] = field(default_factory=dict)

    def mark_clicked(self, kind: Kind, step: Step) -> None:
        self.looks_clicked.add(_look_mark(kind, step))

    def clicked_on_look(self, kind: Kind, step: Step) -> bool:
        """The step was clicked on a card of ``kind``'s look (the same card reached another way)."""
        return bool(kind.look) and _look_mark(kind, step) in self.looks_clicked

    def take(self, mark: tuple[str, str, bool]) -> bool:
        """True for the first walker to take the step ``mark``."""
        if mark in self.taken:
            return False
        self.taken.add(mark)
        return True


def step_mark(sig: str, step: Step) -> tuple[str, str, bool]:
    """A step of a kind of card as walkers tell steps apart: what it reveals, what it clicks, filled or not."""
    return sig, (step.target.key if not step.reveals else
                 "/".join(r.key for r in step.reveals) + ">" + step.target.key), step.filled


def _look_mark(kind: Kind, step: Step) -> tuple[str, str, bool]:
    _sig, what, filled = step_mark(kind.signature, step)
    return kind.look, what, filled


@dataclass
class WalkStats:
    clicks: int = 0
    kinds: int = 0
    seconds: float = 0.0
    restores: int = 0
    #: buttons not clicked because the same button (see :func:`leave_identity`) was, on another card
    same_as_clicked: int = 0
    #: steps another walker of the team took
    taken_by_others: int = 0
    left_out: list[str] = field(default_factory=list)


async def until(done: Callable[[], bool], seconds: float) -> bool:
    """Poll ``done`` until it holds or ``seconds`` pass (what the page and the stream change is not awaitable)."""
    deadline = time.monotonic() + seconds
    while True:
        if done():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)


# --- card JSON -----------------------------------------------------------------------------------------
def nodes(value: Any, ids: tuple[str, ...] = ()) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
    """Every element and action of a card in document order, with the ids of the elements around it
    (sub-cards included; fallbacks, the data a button sends and the ``refresh`` action Teams sends by
    itself are not what the card shows)."""
    if isinstance(value, dict):
        yield value, ids
        inner = (*ids, value["id"]) if isinstance(value.get("id"), str) else ids
        for k, v in value.items():
            if k not in ("fallback", "data", "refresh"):
                yield from nodes(v, inner)
    elif isinstance(value, list):
        for item in value:
            yield from nodes(item, ids)


def actions_of(value: Any) -> list[dict[str, Any]]:
    """Every action of a card in document order (sub-cards included, fallbacks not)."""
    return [node for node, _ in nodes(value) if str(node.get("type", "")).startswith("Action.")]


def subcard_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The actions inside ``Action.ShowCard`` sub-cards (shown in their own nested card)."""
    inner: list[dict[str, Any]] = []
    for a in actions_of(card):
        if a.get("type") == "Action.ShowCard":
            inner += actions_of(a.get("card") or {})
    return inner


def _inputs_of(value: Any) -> list[dict[str, Any]]:
    return [node for node, _ in nodes(value) if str(node.get("type", "")).startswith("Input.")]


def toggle_targets(action: dict[str, Any]) -> list[str]:
    """The ids of the elements an ``Action.ToggleVisibility`` shows or hides."""
    return [t if isinstance(t, str) else str(t.get("elementId", "")) for t in action.get("targetElements", [])]


def _verb(action: dict[str, Any]) -> str:
    data = action.get("data")
    return str(action.get("verb") or (data.get("action") if isinstance(data, dict) else "") or "")


def _generic(identifier: str) -> str:
    """An id with its per-row part (digits, uuids) dropped: ``user-edit-3`` and ``user-edit-5`` alike."""
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27,}|\d+", "#", identifier)


def action_key(action: dict[str, Any]) -> str:
    kind = str(action.get("type", "")).removeprefix("Action.")
    if kind in ("Execute", "Submit"):
        return f"{kind}:{_verb(action)}"
    if kind == "ToggleVisibility":
        return "Toggle:" + ",".join(sorted({_generic(t) for t in toggle_targets(action)}))
    if kind == "OpenUrl":
        url = urlparse(str(action.get("url", "")))
        return f"OpenUrl:{url.netloc}{_generic(url.path)}"
    if kind == "ShowCard":
        inner = action.get("card") or {}
        return "ShowCard:" + ",".join(sorted({action_key(a) for a in actions_of(inner)} |
                                             {_generic(str(i.get("id", ""))) for i in _inputs_of(inner)}))
    return kind


def toggles_revealing(card: dict[str, Any], key: str) -> set[str]:
    """The keys of the toggles that show a part of ``card`` holding a button of key ``key``."""
    holders = {i for node, ids in nodes(card.get("body")) for i in ids
               if str(node.get("type", "")).startswith("Action.") and action_key(node) == key}
    return {action_key(a) for a in actions_of(card)
            if a.get("type") == "Action.ToggleVisibility" and set(toggle_targets(a)) & holders}


def leave_identity(action: dict[str, Any]) -> str | None:
    """What an ``Action.Execute`` that sends none of the card's inputs sends, whatever card it is on
    (``None`` for any other button): the renderer validates nothing before sending such a button, so
    two of them that send the same are the same click wherever they are."""
    if action.get("type") != "Action.Execute" or action.get("associatedInputs") != "none":
        return None
    return json.dumps([_verb(action), action.get("data")], sort_keys=True)


def id_families(card: dict[str, Any]) -> list[str]:
    """The families of the card's element ids: an id's first two words with its per-row part dropped
    (``details-cloud-azure-credit`` → ``details-cloud``, ``user-edit-3`` → ``user-edit-#``). What tells
    the Cloud list from the Visual Studio list when both answer an assignment with the same buttons."""
    return sorted({"-".join(_generic(node["id"]).split("-")[:2]) for node, _ in nodes(card.get("body"))
                   if isinstance(node.get("id"), str) and not str(node.get("type", "")).startswith("Action.")})


def signature(card: dict[str, Any], via: str) -> str:
    """A card's kind, the same in every language and whatever rows the data gives it: the verb that
    brought it (``via``), the verbs of its own buttons (the card's ``actions``, not its rows') and the
    families of its element ids (see :func:`id_families`), or its root ``id`` when it has one."""
    if card.get("id"):
        return f"id:{card['id']}"
    own = sorted({_verb(a) for a in card.get("actions") or [] if a.get("type") in ("Action.Execute", "Action.Submit")})
    return hashlib.sha1(json.dumps([via, own, id_families(card)]).encode()).hexdigest()[:10]


def face(card: dict[str, Any]) -> str:
    """What a card offers, whatever verb brought it: the verbs of its own buttons (or its root id)."""
    if card.get("id"):
        return f"id:{card['id']}"
    return " ".join(sorted({_verb(a) for a in card.get("actions") or []
                            if a.get("type") in ("Action.Execute", "Action.Submit")}))


def look(card: dict[str, Any]) -> str:
    """A card as a person sees it, whatever verb brought it: its face and the families of its element
    ids. Two kinds with one look are one card reached two ways (the Visual Studio list, and that list
    again after a seat is removed from it): a button clicked on one needs no click on the other."""
    return face(card) if card.get("id") else f"{face(card)} | {' '.join(id_families(card))}"


def places_back(came_from: Kind, kinds: dict[str, Kind], answered: bool = False) -> list[Kind]:
    """Where a card reached from ``came_from`` must lead back to (one of them is enough): the card the
    person came from when it is a place; else, or when the card answers a form or a confirmation
    (``answered``), any place the flow went through since the menu (a form already sent is one of them,
    the card the flow started from is as good: the menu itself for a form opened from the menu)."""
    chain: list[Kind] = []
    kind: Kind | None = came_from
    if came_from.place and not answered and came_from.via_verb not in MENU_VERBS:
        return [came_from]
    while kind is not None and kind.via_verb not in MENU_VERBS and kind not in chain:
        chain.append(kind)
        kind = kinds.get(kind.parent) if kind.parent else None
    places = [k for k in chain if k.place]
    if answered and kind is not None and kind.via_verb in MENU_VERBS and places == [came_from]:
        places.append(kind)
    return places


def verbs_to_try_back(verbs: set[str], openers: dict[str, set[str]], place_openers: dict[str, set[str]]) -> list[str]:
    """The buttons of a card with no way back seen yet, by verb, to click before judging it: those whose
    verb never showed a card (the walk's budget ran out first), then those seen to open a place elsewhere
    (Back to a request the person came from, seen so far only as the answer to the form that prepared
    it: the same request opened is a place to go back to)."""
    known = set().union(*openers.values()) if openers else set()
    opens_places = set().union(*place_openers.values()) if place_openers else set()
    return sorted(verbs - MENU_VERBS - known) + sorted((verbs - MENU_VERBS) & known & opens_places)


def has_way_back(verbs: set[str], to: Kind, openers: dict[str, set[str]]) -> bool:
    """A button leads back to ``to`` when its verb is one the walk has seen show a card of that face
    (the Users card reopened by ``users`` or re-shown by ``set_roles`` is the same place)."""
    return bool(verbs & (openers.get(to.face, set()) | {to.via_verb}))


#: Verbs a notice may lead on with instead of the menu: the benefits or requests it is about.
NOTICE_VERBS = MENU_VERBS | {"my_benefits", "requests"}


def notice_problem(card: dict[str, Any]) -> str:
    """A card the bot sends on its own (a notice) leads on to the menu or to the person's benefits."""
    verbs = {_verb(a) for a in actions_of(card) if a.get("type") in ("Action.Execute", "Action.Submit")}
    if verbs & NOTICE_VERBS:
        return ""
    return f"a notice with no way to the menu or My benefits (no button with verb {'/'.join(sorted(NOTICE_VERBS))})"


def label_of(card: dict[str, Any]) -> str:
    """The card's first words (its heading), for people reading a failure."""
    def first(node: Any) -> str:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock" and node.get("text"):
                return str(node["text"])
            for k in ("body", "items", "columns"):
                if k in node:
                    got = first(node[k])
                    if got:
                        return got
        elif isinstance(node, list):
            for item in node:
                got = first(item)
                if got:
                    return got
        return ""
    return re.sub(r"\s+", " ", first(card)).strip()[:60]


def shown_text(value: Any, key: str = "") -> list[str]:
    """The strings of a card a person reads."""
    if isinstance(value, dict):
        out: list[str] = []
        picked = value.get("type") in ("Input.ChoiceSet", "Input.Toggle")  # their value is a choice's data
        for k, v in value.items():
            if k in ("data", "fallback", "verb", "id", "url", "iconUrl", "$schema", "type", "choices.data") or \
                    (picked and k == "value"):
                continue
            out += shown_text(v, k)
        return out
    if isinstance(value, list):
        if key == "choices":  # a choice shows its title; its value is data
            return [c["title"] for c in value if isinstance(c, dict) and isinstance(c.get("title"), str)]
        return [s for item in value for s in shown_text(item, key)]
    return [value] if isinstance(value, str) and key in _SHOWN else []


def product_words(locale: str, inventory: dict[str, Any] | None = None) -> frozenset[str]:
    """The words of the demo inventory's product names that its ``locale`` name keeps as Microsoft
    gives them ("Dynamics 365 Sales 企业版" keeps "Sales"; "Microsoft 365 企业应用版" drops "Apps")."""
    kept: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            names = node.get("name")
            if isinstance(names, dict) and isinstance(names.get("en-US"), str) and isinstance(names.get(locale), str):
                english = {w.lower() for w in _WORD.findall(names["en-US"])}
                kept.update(w.lower() for w in _WORD.findall(names[locale]) if w.lower() in english)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(inventory if inventory is not None else demo_inventory(date.today()))
    return frozenset(kept)


#: What the walk types into free-text inputs: a person's own words, shown back as they typed them.
TYPED_NOTE = "We plan a pilot for 20 people; please advise on the set-up."
TYPED_NAME = "Pat Kim"
#: What a person types in a text input, by what its pattern accepts (the first one that it does).
TYPED_TEXTS = (TYPED_NAME, "2611290010001234", "pat.kim@outlook.com")


def text_patterns(card: dict[str, Any]) -> dict[str, str]:
    """The card's text inputs that have a pattern, by their label and by their placeholder."""
    found: dict[str, str] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Input.Text" and node.get("regex"):
                for name in (node.get("label"), node.get("placeholder")):  # the page shows either
                    if name:
                        found[str(name).strip()] = str(node["regex"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(card)
    return found


def plausible_text(pattern: str) -> str:
    """A text the renderer accepts for ``pattern`` (it tests with an unanchored JavaScript RegExp)."""
    for text in TYPED_TEXTS:
        if not pattern or re.search(pattern, text):
            return text
    return TYPED_NAME


def english_words(texts: list[str], allowed: frozenset[str] = frozenset()) -> list[str]:
    """ASCII words that are not a brand, product, person, email or URL (``allowed``: more such words),
    nor what the walk itself typed (user data, not the bot's words)."""
    words: list[str] = []
    for t in texts:
        t = _EMAIL.sub(" ", _URL.sub(" ", t)).replace(TYPED_NOTE, " ").replace(TYPED_NAME, " ")
        for term in KEPT_TERMS:
            t = t.replace(term, " ")
        t = re.sub(r"\]\([^)]*\)", "]", t)  # markdown link targets
        for chunk in _CHUNK.findall(t):
            if any(c.isdigit() for c in chunk):
                continue  # a reference, a version, a model number: BR-20261129-EEF3A1, E5, x64
            for w in _WORD.findall(chunk):
                if len(w.strip("_'")) > 1 and w.lower().strip("'") not in ALLOWED_WORDS | allowed and w not in words:
                    words.append(w)
    return words


def utf16_size(message: dict[str, Any] | str) -> int:
    text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
    return len(text.encode("utf-16-le"))


# --- the walk ----------------------------------------------------------------------------------------------
class Walk:
    """One person, one language: walk the cards reachable from the menu in the page ``page``."""

    def __init__(self, page: Page, pg: Playground, role: str, locale: str, folder: Path, *,
                 twins: dict[str, Kind] | None = None, max_clicks: int = 150, max_seconds: float = 120.0,
                 english_clicked: set[str] | None = None, snapshots: Snapshots | None = None,
                 language: str = "", max_restores: int = 40, team: Team | None = None) -> None:
        self.page = page
        self.team = team or Team()
        self.snapshots = snapshots
        #: the language card's choice for this walk's language (chosen again after a restore)
        self.language = language
        self.max_restores = max_restores
        #: what each button the walk clicked is (its key): a twin walk clicks only what the English walk
        #: did not (a button shows in one language's card and not the other's because the data changed
        #: between the walks, not the language)
        self.clicked = self.team.clicked
        #: the English walks' (while they go on: their twins may start before the last English one ends)
        self.english_clicked = english_clicked if english_clicked is not None else set()
        self.pg = pg
        self.role = role
        self.locale = locale
        self.folder = folder
        self.twins = twins
        self.max_clicks = max_clicks
        self.max_seconds = max_seconds
        self.kinds: dict[str, Kind] = {}
        self.products = product_words(locale)
        #: a card's face → the verbs the walk (its team) has seen show it
        self.openers = self.team.openers
        #: the notices' buttons clicked: (the notice's face, the button's key)
        self.notice_clicked: set[tuple[str, str]] = set()
        #: a card's face → the verbs seen open it (not as the answer to a form or a confirmation)
        self.place_openers = self.team.place_openers
        self._way_back_later: list[tuple[Kind, set[str], Kind, list[Kind], str, str]] = []
        #: (kind, button key) → what the button sends when it sends no inputs (see :func:`leave_identity`)
        self._leaves: dict[tuple[str, str], str] = {}
        #: what such buttons clicked sent (and got an answer to)
        self.leaves_clicked = self.team.leaves_clicked
        self.findings: list[Finding] = []
        self.stats = WalkStats()
        self.visited: set[tuple[str, str, bool]] = set()
        self.pending: list[tuple[str, Step]] = []
        self._updates: dict[str, dict[str, Any]] = {}
        self._sent: list[tuple[str, str]] = []
        self._responses: list[asyncio.Task[None]] = []
        self._reported: set[tuple[str, str, str]] = set()
        self._checked: set[str] = set()
        self._shot = 0
        self._last_shot = ""
        self._t0 = time.monotonic()
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        page.on("request", self._on_request)
        page.on("response", lambda r: self._responses.append(asyncio.ensure_future(self._on_response(r))))

    # --- what the page sends and gets ----------------------------------------------------------
    def _on_request(self, request: Request) -> None:
        if request.method == "POST" and any(r in request.url for r in SEND_ROUTES):
            self._sent.append((request.url, request.post_data or ""))

    async def _on_response(self, response: Response) -> None:
        if "/_conversation/v1/invoke" not in response.url:
            return
        try:
            body = await response.text()
            sent = json.loads(response.request.post_data or "{}")
        except Exception:  # noqa: BLE001 - the page went away
            return
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {}
        status = answer.get("statusCode", 200) if isinstance(answer, dict) else 200
        if response.status != 200 or (isinstance(status, int) and status >= 400):
            self._failed = f"the bot answered the click with {response.status}/{status}: {body[:200]}"
        elif isinstance(answer, dict) and str(answer.get("value", "")).strip() in APOLOGIES:
            self._failed = f"the bot apologized, a turn failed: {answer['value']!r} (its log: bot.log of the stack)"
        if isinstance(answer, dict) and answer.get("type") == ADAPTIVE_CARD and isinstance(answer.get("value"), dict):
            self._updates[str(sent.get("replyToId", ""))] = answer["value"]
            self._check_size(body, "the card that replaced the clicked one")

    _failed = ""

    async def _settle(self, messages_before: int, url: str) -> None:
        """Wait until the click's answer is in: the invoke's response (the card replaced in place), or
        the bot's next message for a submit or a typed message; then until the bot is quiet a moment."""
        deadline = time.monotonic() + 8
        if "/invoke" not in url:
            await until(lambda: len(self.pg.messages) > messages_before, 8)
        else:
            await until(lambda: bool(self._responses), 8)
        while self._responses:
            await asyncio.gather(*self._responses, return_exceptions=True)
            self._responses.clear()
            await asyncio.sleep(0.05)
        await self.quiet(0.1, deadline - time.monotonic())
        await self.page.wait_for_function(_RENDERED, arg=[TOP_CARD, self._card_count()], timeout=10000)

    async def quiet(self, pause: float, seconds: float) -> None:
        """Wait until the bot has sent nothing new for ``pause`` seconds, or ``seconds`` have passed."""
        deadline = time.monotonic() + seconds
        count = -1
        while count != len(self.pg.messages) and time.monotonic() < deadline:
            count = len(self.pg.messages)
            await asyncio.sleep(pause)

    def _card_count(self) -> int:
        return len({m.id for m in self.pg.messages if m.cards and m.conversation_id == self.pg.personal_chat})

    def log(self, line: str) -> None:
        with open(self.folder / "walk.log", "a", encoding="utf-8") as out:
            out.write(f"{time.monotonic() - self._t0:7.2f} {line}\n")

    def latest_card(self) -> tuple[str, dict[str, Any]] | None:
        """The JSON of the card shown last in the personal chat (as updated in place since)."""
        for m in reversed(self.pg.messages):
            if m.conversation_id == self.pg.personal_chat and m.cards:
                return m.id, self._updates.get(m.id, m.card)
        return None

    # --- findings --------------------------------------------------------------------------------
    async def screenshot(self, what: str) -> str:
        self._shot += 1
        safe = re.sub(r"[^\w.-]+", "_", what)[:70]
        path = self.folder / f"{self._shot:03d}-{safe}.jpg"
        self.log(f"screenshot {path.name}")
        await self.page.screenshot(path=str(path), quality=SHOT_QUALITY)
        self._last_shot = str(path.relative_to(self.folder.parents[3]))
        return self._last_shot

    async def fail(self, kind: str, button: str, problem: str, *, once_per_kind: bool = False) -> None:
        """Record a finding with the screenshot of the step that shows it (the latest one)."""
        key = (kind.split(" [")[0], "" if once_per_kind else button, problem)
        if key in self._reported:
            return
        self._reported.add(key)
        self.log(f"FAIL {kind} {button!r}: {problem}")
        self.findings.append(Finding(self.role, self.locale, kind, button, problem, self._last_shot))

    def _check_size(self, text: str, what: str) -> None:
        size = utf16_size(text)
        if size > MAX_MESSAGE_BYTES:
            self.findings.append(Finding(self.role, self.locale, "?", "", f"{what} is {size / 1024:.0f} KB in "
                                         f"UTF-16, over Teams' recommended {MAX_MESSAGE_BYTES // 1024} KB",
                                         self._last_shot))

    async def check_card(self, card: dict[str, Any], scan: dict[str, Any]) -> None:
        """What holds for every card as shown, whatever was clicked."""
        kind = self.kind_label(card)
        names: dict[str, int] = {}
        for b in scan["buttons"]:
            names[b["name"]] = names.get(b["name"], 0) + 1
        for name, count in names.items():
            if count > 1:
                await self.fail(kind, name, f"{count} buttons share the accessible name {name!r}: a screen "
                                "reader cannot tell them apart", once_per_kind=True)
        seen = hashlib.sha1(json.dumps(card, sort_keys=True).encode()).hexdigest()
        if seen in self._checked:
            return
        self._checked.add(seen)
        self._check_size(json.dumps(card, ensure_ascii=False), f"card {kind}")
        if self.locale.startswith("zh"):
            words = english_words(shown_text(card), self.products)
            if words:
                await self.fail(kind, "", f"English words in a {self.locale} card: {', '.join(words[:12])}")

    def check_messages(self, since: int) -> list[str]:
        """Sizes of new messages, apologies for a failed turn, and English words of new plain-text
        messages in Chinese."""
        problems = []
        for m in self.pg.messages[since:]:
            self._check_size(json.dumps({"text": m.text, "cards": m.cards}, ensure_ascii=False),
                             f"message {m.id}")
            if m.text and m.text.strip() in APOLOGIES:
                problems.append(f"the bot apologized, a turn failed: {m.text!r} (its log: bot.log of the stack)")
            if self.locale.startswith("zh") and m.text:
                words = english_words([m.text], self.products)
                if words:
                    problems.append(f"English words in a {self.locale} message: {', '.join(words[:12])} "
                                    f"({m.text[:80]!r})")
        return problems

    def kind_label(self, card: dict[str, Any]) -> str:
        sig = signature(card, self._via)
        twin = (self.twins or {}).get(sig)
        label = f"{label_of(card)!r} [{sig}]"
        return f"{label} (en-US: {twin.label.split(' [')[0]})" if twin else label

    # --- the page -----------------------------------------------------------------------------------
    async def scan(self) -> dict[str, Any]:
        found = await self.page.evaluate(_SCAN, TOP_CARD)
        return found or {"buttons": [], "inputs": [], "html": "", "focus": -1, "cards": 0,
                         "opened": await self.page.evaluate("() => [...window.__opened]")}

    def keyed(self, card: dict[str, Any], scan: dict[str, Any]) -> list[tuple[Target, dict[str, Any]]]:
        """The visible buttons with their key and rank among the visible buttons of that key."""
        inner = {id(a) for a in subcard_actions(card)}
        by_name: dict[tuple[str, bool], list[dict[str, Any]]] = {}
        for a in actions_of(card):
            for name in {str(a.get("title", "")).strip(), str(a.get("tooltip", "")).strip()} - {""}:
                by_name.setdefault((name, id(a) in inner), []).append(a)
        seen_name: dict[tuple[str, bool], int] = {}
        seen_key: dict[str, int] = {}
        out = []
        for b in scan["buttons"]:
            where = (b["name"], bool(b.get("nested")))
            n = seen_name.get(where, 0)
            seen_name[where] = n + 1
            candidates = by_name.get(where) or by_name.get((b["name"], not where[1]), [])
            keys = {action_key(a) for a in candidates}
            if not candidates:
                key = f"?:{b['name']}"
            elif len(keys) == 1:
                key = next(iter(keys))
            else:
                key = action_key(candidates[min(n, len(candidates) - 1)])
            rank = seen_key.get(key, 0)
            seen_key[key] = rank + 1
            out.append((Target(key, rank), b))
        return out

    async def find(self, target: Target, hidden: bool = False
                   ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
        """The visible button for ``target`` on the latest card: (button, scan, card); a button in a
        part of the card a toggle hides is shown with that toggle first."""
        latest = self.latest_card()
        if latest is None:
            return None
        scan = await self.scan()
        keyed = self.keyed(latest[1], scan)
        for t, b in keyed:
            if t == target:
                return b, scan, latest[1]
        if not hidden:
            # a card shown again keeps what the person had toggled: the button is in a part now hidden
            for toggle in (b for t, b in keyed if t.key in toggles_revealing(latest[1], target.key)):
                await self.click(toggle, "Action.ToggleVisibility")
                return await self.find(target, hidden=True)
        self.log(f"not found {target.key} on {self.kind_label(latest[1])}: the page shows "
                 f"{[b['name'] for b in scan['buttons']][:12]}, the card has {[t.key for t, _ in keyed][:12]}")
        return None

    async def fill(self, own: list[int], inputs: list[dict[str, Any]], card: dict[str, Any] | None = None) -> None:
        """Fill the button's own inputs as a person plausibly would (what a text input's pattern asks
        for: a name, a number, an email)."""
        patterns = text_patterns(card or {})
        checked_one: set[str] = set()
        for i in own:
            spec = inputs[i]
            box = self.page.locator(f"{TOP_CARD} [data-walk-input='{i}']").last
            kind = spec["type"]
            try:
                if spec["role"] == "combobox":
                    await box.click()
                    await box.press_sequentially("Lee")
                    option = self.page.get_by_role("option").first
                    try:
                        await option.wait_for(timeout=3000)
                        await option.click()
                    except PlaywrightTimeout:  # not a people picker: the date picker takes typed dates
                        await box.fill((date.today() + timedelta(days=365)).isoformat())
                        await box.press("Enter")
                elif spec["tag"] == "select":
                    values = await box.evaluate("s => [...s.options].map(o => o.value).filter(Boolean)")
                    if values:
                        await box.select_option(values[-1] if len(values) > 1 else values[0])
                elif kind in ("checkbox", "radio"):
                    group = spec["label"] if kind == "radio" else str(i)
                    if not spec["checked"] and group not in checked_one:
                        await box.check()
                        checked_one.add(group)
                elif spec["value"]:
                    continue
                elif kind == "email":
                    await box.fill("pat.kim@outlook.com")
                elif kind == "tel":
                    await box.fill("+1 425 555 0100")
                elif kind == "date":
                    await box.fill((date.today() + timedelta(days=365)).isoformat())
                elif kind == "number":
                    low = await box.get_attribute("min")
                    await box.fill(str(max(1, int(float(low))) if low else 1))
                elif kind == "time":
                    await box.fill("09:30")
                elif spec["tag"] == "textarea":
                    await box.fill(TYPED_NOTE)
                else:
                    await box.fill(plausible_text(patterns.get(spec["label"].rstrip(" *"), "")))
            except Exception as error:  # noqa: BLE001 - reported as what the person could not do
                await self.fail(self.kind_label(self.latest_card()[1] if self.latest_card() else {}), "",
                                f"could not fill input {spec['label']!r} ({spec['tag']} {kind}): "
                                f"{str(error).splitlines()[0][:120]}")
        # an open dropdown of a people picker must not swallow the next click
        await self.page.keyboard.press("Escape") if any(inputs[i]["role"] == "combobox" for i in own) else None

    async def click(self, button: dict[str, Any], action_type: str, before: dict[str, Any] | None = None) -> Outcome:
        """Click, then watch what the click does (``before``: the page's scan, when it was just taken)."""
        before = before or await self.scan()
        card_before = self.latest_card()
        sent_before = len(self._sent)
        messages_before = len(self.pg.messages)
        opened_before = len(before.get("opened", []))
        self._failed = ""
        self.stats.clicks += 1
        self.log(f"click {button['name']!r} ({action_type or '?'})")
        await self.page.locator(f"{TOP_CARD} [data-walk='{button['index']}']").last.click(timeout=5000)
        quick = action_type in ("Action.ShowCard", "Action.ToggleVisibility", "Action.OpenUrl")
        if quick:
            with contextlib.suppress(Exception):
                await self.page.wait_for_function(_CHANGED if action_type != "Action.OpenUrl" else _OPENED,
                                                  arg=[TOP_CARD, before["html"], opened_before], timeout=1000)
        started = time.monotonic()
        deadline = started + (0 if quick else SEND_WAIT_S)
        before_errors = {i["index"]: i["error"] for i in before["inputs"] if i["error"]}
        while time.monotonic() < deadline and len(self._sent) == sent_before:
            await asyncio.sleep(0.05)
            waited = time.monotonic() - started
            if quick or waited < REFUSED_AFTER_S:
                continue
            now = await self.scan()
            if self._new_errors(before_errors, now) or (waited > 1 and now["focus"] >= 0):
                break  # the renderer refused the click (it shows what is missing): nothing will be sent
        sent = len(self._sent) > sent_before
        if sent:
            await self._settle(messages_before, self._sent[sent_before][0])
            if self.latest_card() != card_before:  # an answer equal to the card shown changes nothing on screen
                with contextlib.suppress(Exception):  # one that changes nothing on screen is judged later
                    await self.page.wait_for_function(_CHANGED, arg=[TOP_CARD, before["html"]], timeout=1500)
        after = await self.scan()
        new_errors = self._new_errors(before_errors, after)
        opened = after.get("opened", [])[opened_before:]
        self.log(f"  sent={sent} errors={new_errors} opened={opened}")
        request = self._sent[sent_before] if sent else None
        return Outcome(sent, new_errors, after["html"] != before["html"], opened, self._failed, request)

    @staticmethod
    def _new_errors(before_errors: dict[int, str], scan: dict[str, Any]) -> dict[int, str]:
        """The inputs a click left marked invalid that were not before it."""
        return {i["index"]: i["error"] or i["label"] for i in scan["inputs"]
                if i["error"] and i["index"] not in before_errors}

    async def show_menu(self, typed: bool = False) -> None:
        """The menu, fresh. The first time it is typed in the composer; then the bot's own menu card is
        put back in place of the latest card (as the bot updates a card), so the chat stays one card
        long and the page as quick as a person's."""
        latest = self.latest_card()
        if not typed and self._menu is not None and latest is not None and self.pg.messages[-1].id == latest[0]:
            await self.put_card(self._menu)
            self._via = MENU_COMMAND
            self.log("menu put back")
            return
        count = len(self.pg.messages)
        box = self.page.get_by_role("textbox").last
        await box.fill(MENU_COMMAND)
        await box.press("Enter")
        self.log("menu typed")
        await self._settle(count, "/messages")
        latest = self.latest_card()
        if self._menu is None and latest is not None:
            self._menu = latest[1]
        self._fresh = True
        self._via = MENU_COMMAND
        self.log("menu shown")

    _menu: dict[str, Any] | None = None
    #: the verb that brought the card on screen (part of its kind)
    _via = MENU_COMMAND

    async def put_card(self, card: dict[str, Any]) -> None:
        """Show ``card`` in place of the latest card, as the bot updates a card (the mock connector)."""
        latest = self.latest_card()
        assert latest is not None
        message_id = latest[0]
        url = f"{self.pg.base}/_connector/v3/conversations/{self.pg.personal_chat}/activities/{message_id}"
        activity = {"type": "message", "id": message_id, "from": {"id": self.pg.bot_id, "name": self.pg.bot_name},
                    "conversation": {"id": self.pg.personal_chat},
                    "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}]}
        before = (await self.scan())["html"]
        async with self.pg.session.put(url, json=activity) as resp:
            assert resp.status < 300, f"the Playground did not update the card: {resp.status} {await resp.text()}"
        self._updates[message_id] = card
        self._fresh = True
        with contextlib.suppress(Exception):
            await self.page.wait_for_function(_CHANGED, arg=[TOP_CARD, before], timeout=1500)

    async def replay(self, request: tuple[str, str]) -> None:
        """Send again what a click sent (same verb, data and inputs) and show the bot's fresh answer in
        place: a card of that kind, rendered now (fresh nonces), without replaying the way there."""
        latest = self.latest_card()
        if latest is None:
            await self.show_menu()
            latest = self.latest_card()
            assert latest is not None
        url, body = request
        sent = json.loads(body)
        sent["replyToId"] = latest[0]
        count = len(self.pg.messages)
        data_before = await self.data_state()
        async with self.pg.session.post(url, json=sent) as resp:
            text = await resp.text()
        if "/invoke" in url:
            answer = json.loads(text) if text.strip().startswith("{") else {}
            answer = answer.get("body", answer)
            if answer.get("type") == ADAPTIVE_CARD and isinstance(answer.get("value"), dict):
                # a change may send this person a notice, on top: the answer goes over it
                if await self.data_state() != data_before:
                    await self.quiet(0.4, 2)
                await self.put_card(answer["value"])
        else:
            await self._settle(count, url)
            self._fresh = True
        self.log(f"replayed {url.rsplit('/', 1)[-1]} {json.dumps(sent.get('value', {}))[:80]}")

    # --- walking ----------------------------------------------------------------------------------
    async def run(self) -> WalkStats:
        started = time.monotonic()
        self._deadline = started + self.max_seconds
        await self.show_menu()
        menu = await self.arrive(route=[], via_verb=MENU_COMMAND, came_from=None, button="",
                                 snapshot=await self.take_snapshot())
        if menu is None:
            await self.fail("menu", "", f"typing {MENU_COMMAND!r} showed no card")
            return self.stats
        if self.twins is not None:
            await self.reach_twins()
        while self.pending and not self._out_of_budget():
            sig, step = self._next()
            if self.team.take(step_mark(sig, step)):
                await self.try_step(sig, step)
            else:
                self.stats.taken_by_others += 1
        await self.check_ways_back_later()
        for s, st in self.pending:
            if self._same_as_clicked(s, st):
                self.stats.same_as_clicked += 1  # what the budget left of these needs no click either
            else:
                self.stats.left_out.append(f"{self.kinds[s].label if s in self.kinds else s} → {st.target.key}"
                                           f"{' (filled)' if st.filled else ''}")
        self.stats.kinds = len(self.kinds)
        self.stats.seconds = time.monotonic() - started
        return self.stats

    def _out_of_budget(self) -> bool:
        return self.stats.clicks >= self.max_clicks or time.monotonic() > self._deadline

    def _next(self) -> tuple[str, Step]:
        """A button of the card on screen when there is one (no route to replay), else the nearest."""
        latest = self.latest_card()
        here = signature(latest[1], self._via) if latest and self._fresh else None
        for i, (sig, step) in enumerate(self.pending):
            if sig == here and not step.reveals:
                return self.pending.pop(i)
        # nearest first; at one depth, what a toggle or sub-card revealed (its forms) before the rest
        best = min(range(len(self.pending)), key=lambda i: (len(self.kinds[self.pending[i][0]].route),
                                                            not self.pending[i][1].reveals,
                                                            self.pending[i][1].filled))
        return self.pending.pop(best)

    _fresh = False

    async def arrive(self, route: list[Step], via_verb: str, came_from: Kind | None, button: str,
                     shoot: bool = True, request: tuple[str, str] | None = None,
                     shown: tuple[str, dict[str, Any]] | None = None,
                     snapshot: str | None = None) -> Kind | None:
        """A card is shown after a click (or the menu command): check it, learn its kind and buttons."""
        latest = shown or self.latest_card()
        if latest is None:
            return None
        card = latest[1]
        scan = await self.scan()
        self._via = via_verb
        sig = signature(card, via_verb)
        if shoot:
            await self.screenshot(f"{label_of(card)[:30]}-{self.locale}")
        await self.check_card(card, scan)
        self.openers.setdefault(face(card), set()).add(via_verb)
        if not (route and route[-1].filled) and not _ANSWER.search(request[1] if request else ""):
            self.place_openers.setdefault(face(card), set()).add(via_verb)
        known = self.kinds.get(sig)
        if known is None:
            known = Kind(sig, self.kind_label(card), frozenset(t.key for t, _ in self.keyed(card, scan)),
                         route, via_verb, request, came_from.signature if came_from else None, face(card),
                         snapshot, look=look(card))
            self.kinds[sig] = known
            self.team.reached.add(sig)
            twin = (self.twins or {}).get(sig)
            for a in actions_of(card):
                identity = leave_identity(a)
                if identity is not None:
                    self._leaves[(sig, action_key(a))] = identity
            for target, _b in self.keyed(card, scan):
                if twin is not None and (target.key in twin.keys or target.key in self.english_clicked):
                    continue
                if target.key.startswith("?:"):
                    # a button the page shows and the card does not have: the page is not showing this
                    # card (a message arrived on top meanwhile); the card's own buttons are queued
                    self.log(f"  not queued {target.key}: not a button of {known.label}")
                elif target.rank == 0:
                    self._queue(sig, Step((), target))
            if self.twins is None or twin is None:
                await self.check_way_back(card, known, came_from, button)
        state = await self.data_state()
        if state is not None:
            known.shown = (state, card)
        return known

    def _queue(self, sig: str, step: Step) -> None:
        mark = step_mark(sig, step)
        if mark in self.visited:
            return
        self.visited.add(mark)
        self.pending.append((sig, step))

    async def check_way_back(self, card: dict[str, Any], kind: Kind, came_from: Kind | None, button: str) -> None:
        if came_from is None or kind.signature == came_from.signature or kind.face == came_from.face:
            return  # the menu, a twin, or the same card updated by its own button
        verbs = {_verb(a) for a in actions_of(card) if a.get("type") in ("Action.Execute", "Action.Submit")}
        source = came_from.label
        if not verbs & MENU_VERBS:
            await self.fail(kind.label, "", f"no way back to the menu (no button with verb "
                            f"{'/'.join(sorted(MENU_VERBS))}); reached from {source} by {button!r}")
        places = places_back(came_from, self.kinds, answered=not kind.place)
        if places and not any(has_way_back(verbs, place, self.openers) for place in places):
            # judged again at the end: a button may show the card the person came from by a verb the
            # walk has not clicked yet (Back to a request reached when it was sent)
            self._way_back_later.append((kind, verbs, came_from, places, button, self._last_shot))

    def _leads_back(self, verbs: set[str], came_from: Kind, places: list[Kind]) -> bool:
        return any(has_way_back(verbs, place, self.openers) for place in places) or \
            bool(verbs & self.place_openers.get(came_from.face, set()) - {came_from.via_verb})

    async def check_ways_back_later(self) -> None:
        """The ways back not seen on arrival, with every verb the walk has seen open each card; the buttons
        :func:`verbs_to_try_back` names are clicked now, until one shows the way back."""
        for kind, verbs, came_from, places, button, shot in self._way_back_later:
            for verb in verbs_to_try_back(verbs, self.openers, self.place_openers):
                if self._leads_back(verbs, came_from, places):
                    break
                key = next((k for k in kind.keys if k in (f"Execute:{verb}", f"Submit:{verb}")), None)
                if key is None:
                    continue
                with contextlib.suppress(Exception):  # judged below: no way back found is the finding
                    if await self.goto(kind.signature):
                        await self.perform(Step((), Target(key)), current=kind)
            if self._leads_back(verbs, came_from, places):
                continue
            wanted = sorted(set().union(*(self.openers.get(p.face, {p.via_verb}) for p in places)))
            self._last_shot = shot
            await self.fail(kind.label, "", f"no way back to {' or '.join(p.label for p in places)} (no button "
                            f"with a verb that shows it: {', '.join(wanted)}); reached by {button!r}")

    async def goto(self, sig: str, key: str = "") -> bool:
        """Show a fresh card of kind ``sig`` (one with the button ``key``, when given: two cards can be of
        one kind and differ by their rows): the menu, or what the click that first showed it sent."""
        kind = self.kinds.get(sig) or (self.twins or {}).get(sig)
        if kind is None:
            return False
        latest = self.latest_card()
        if self._fresh and latest and signature(latest[1], self._via) == sig and \
                (not key or key in {action_key(a) for a in actions_of(latest[1])}):
            return True
        if kind.shown is not None and kind.shown[0] == await self.data_state():
            # the data has not changed since the bot showed it: the same card, shown again as it was
            await self.put_card(kind.shown[1])
            self._via = kind.via_verb
            self.log(f"shown again {kind.label}")
            return True
        if await self._reach(kind):
            return True
        # the walk's own clicks changed the data since: reach it again on the data it was first seen on
        return await self.restore(kind) and await self._reach(kind)

    async def _reach(self, kind: Kind) -> bool:
        """Send again what first showed ``kind`` (the menu: show it) and tell whether it is shown."""
        if kind.request is None:
            await self.show_menu()
        else:
            await self.replay(kind.request)
        self._via = kind.via_verb
        latest = self.latest_card()
        return bool(latest) and signature(latest[1], self._via) == kind.signature

    async def data_state(self) -> str | None:
        """A name of the bot's data as it is now (None without :class:`Snapshots`)."""
        return await asyncio.to_thread(self.snapshots.state) if self.snapshots is not None else None

    async def take_snapshot(self) -> str | None:
        return await asyncio.to_thread(self.snapshots.snapshot) if self.snapshots is not None else None

    async def restore(self, kind: Kind) -> bool:
        """Put back the data ``kind`` was first seen on (the bot restarts on it), in this walk's
        language; False when there is nothing to put back or the walk has restored enough."""
        if self.snapshots is None or kind.snapshot is None or self.stats.restores >= self.max_restores:
            return False
        self.stats.restores += 1
        self.log(f"restore {kind.snapshot} to reach {kind.label}")
        await self.restore_data(kind.snapshot)
        return True

    async def restore_data(self, snapshot: str) -> None:
        """The bot restarted on ``snapshot``; the notices it had not sent then are sent again now (the
        walk waits for them: they would be on top of the card it shows next), in this walk's language."""
        assert self.snapshots is not None
        await asyncio.to_thread(self.snapshots.restore, snapshot)
        self._fresh = False
        await self.quiet(0.7, 3)
        if self.locale != "en-US":
            count = len(self.pg.messages)
            await self.pg.say(f"language {self.locale}")
            await until(lambda: len(self.pg.messages) > count, 10)
            await self.quiet(0.3, 10)
        # the menu typed anew: the card the walk shows next goes at the bottom of the chat, below
        # whatever the restart sent
        await self.show_menu(typed=True)

    async def perform(self, step: Step, current: Kind | None) -> bool:
        """Do the step's reveals, fill, click; with ``current`` set, check the click and what follows."""
        for reveal in step.reveals:
            found = await self.find(reveal)
            if found is None:
                return False
            await self.click(found[0], "Action.ShowCard", before=found[1])
        found = await self.find(step.target)
        if found is None:
            return False
        button, scan, card = found
        action = next((a for a in actions_of(card) if action_key(a) == step.target.key), {})
        action_type = str(action.get("type", ""))
        if step.filled:
            await self.fill(button["own"], scan["inputs"], card)
        elif current is not None and button["own"] and action_type in ("Action.Execute", "Action.Submit"):
            self._queue(current.signature, Step(step.reveals, step.target, filled=True))
        messages_before = len(self.pg.messages)
        shown_before = self.latest_card()
        before = await self.take_snapshot() if action_type in ("Action.Execute", "Action.Submit") else None
        if before is not None and current is not None:
            # the data as it is when the person clicks (what the bot sent after showing the card, the
            # notices, is in by now): the card can be shown again as long as the data stays so
            current.shown = (before, card)
        outcome = await self.click(button, action_type, before=None if step.filled else scan)
        self.clicked.add(step.target.key)
        if outcome.sent and not outcome.failed_response and leave_identity(action) is not None:
            self.leaves_clicked.add(str(leave_identity(action)))
        self._fresh = outcome.sent and action_type in ("Action.Execute", "Action.Submit", "")
        if current is None:
            return outcome.sent or outcome.changed
        name = button["name"] + (" (inputs filled)" if step.filled else "")
        await self.screenshot(f"{current.label.split(' [')[0][:30]}-{name}")
        await self.judge(current, step, name, button, scan, action_type, outcome)
        for problem in self.check_messages(messages_before):
            await self.fail(current.label, name, problem)
        led_to = self.led_to(shown_before, messages_before)
        notices = [m for m in self.pg.messages[messages_before:]
                   if m.cards and m.conversation_id == self.pg.personal_chat and (led_to is None or m.id != led_to[0])]
        for m in notices:
            problem = notice_problem(m.card)
            if problem:
                await self.fail(self.kind_label(m.card), "", f"{problem}; sent when {current.label} → {name!r}")
        if notices and led_to is not None and outcome.sent:
            await self.click_notice(notices[-1].card, f"{current.label} → {name!r}")
            await self.put_card(led_to[1])  # where the click led, on top again (the notice was checked)
        if outcome.sent and led_to is None:
            self._fresh = False  # answered without a new card (a message, or nothing): the card stays as it was
        elif outcome.sent:
            await self.arrive(current.route + [step], _verb(action), current, name, shoot=False,
                              request=outcome.request, shown=led_to, snapshot=before)
        elif action_type in ("Action.ShowCard", "Action.ToggleVisibility") and outcome.changed:
            await self.revealed(current, step, scan)
        return True

    async def click_notice(self, notice: dict[str, Any], when: str) -> None:
        """A notice the bot sent on its own (to the person, in the same moment): each of its buttons is
        clicked where it arrived, its links first (a button that answers replaces the notice)."""
        latest = self.latest_card()
        if latest is None or latest[1] != notice:
            return
        label = self.kind_label(notice)
        actions = sorted(actions_of(notice), key=lambda a: a.get("type") != "Action.OpenUrl")
        for action in actions:
            key = action_key(action)
            if (face(notice), key) in self.notice_clicked:
                continue
            self.notice_clicked.add((face(notice), key))
            latest = self.latest_card()
            if latest is not None and latest[1] != notice:
                await self.put_card(notice)  # replaced by what its first button did: shown again as it came
                latest = self.latest_card()
            if latest is None or latest[1] != notice:
                self.stats.left_out.append(f"{label} → {key}: the notice was replaced (sent when {when})")
                continue
            found = await self.find(Target(key))
            if found is None:
                self.stats.left_out.append(f"{label} → {key}: button not found (sent when {when})")
                continue
            button, _scan, _card = found
            outcome = await self.click(button, str(action.get("type", "")))
            self.clicked.add(key)
            await self.screenshot(f"notice-{label.split(' [')[0][:30]}-{button['name']}")
            if not (outcome.sent or outcome.opened or outcome.changed):
                await self.fail(label, button["name"], f"the click sends nothing (a notice sent when {when})")

    def led_to(self, shown_before: tuple[str, dict[str, Any]] | None,
               messages_before: int) -> tuple[str, dict[str, Any]] | None:
        """The card a click led to: the clicked card when the bot updated it in place (a notice it
        sent to the person at the same time is not where the click led), else the newest card."""
        if shown_before is not None:
            now = self._updates.get(shown_before[0])
            if now is not None and now != shown_before[1]:
                return shown_before[0], now
        latest = self.latest_card()
        return None if latest == shown_before else latest

    async def judge(self, kind: Kind, step: Step, name: str, button: dict[str, Any], scan: dict[str, Any],
                    action_type: str, outcome: Outcome) -> None:
        own = set(button["own"])
        labels = {i["index"]: i["label"] for i in scan["inputs"]}
        other = {i: e for i, e in outcome.new_errors.items() if i not in own}
        if outcome.failed_response:
            await self.fail(kind.label, name, outcome.failed_response)
        if other:
            shown = "; ".join(f"{labels.get(i, '?')!r}: {e!r}" for i, e in other.items())
            await self.fail(kind.label, name, f"the click shows validation errors on inputs of another form "
                            f"({shown}) and sends nothing" if not outcome.sent else
                            f"the click shows validation errors on inputs of another form ({shown})")
            return
        if outcome.opened and not outcome.sent:
            return  # a link (a notice's button may be one the walk knows by its name only): it opened
        if action_type == "Action.OpenUrl":
            if not outcome.opened:
                await self.fail(kind.label, name, "the link opened nothing")
            return
        if action_type in ("Action.ShowCard", "Action.ToggleVisibility"):
            if not outcome.changed:
                await self.fail(kind.label, name, "the click changed nothing on the card")
            return
        if outcome.sent:
            return
        if outcome.new_errors:
            if step.filled:
                shown = "; ".join(f"{labels.get(i, '?')!r}: {e!r}" for i, e in outcome.new_errors.items())
                await self.fail(kind.label, name, f"own inputs filled, still refused by the renderer ({shown})")
            return
        if outcome.changed and not action_type:
            return
        await self.fail(kind.label, name, "the click sends nothing (no request within "
                        f"{SEND_WAIT_S:.0f} s, no validation message, nothing opened)")

    async def revealed(self, kind: Kind, step: Step, before: dict[str, Any]) -> None:
        """A toggle or sub-card opened: its buttons are buttons of this kind, behind this reveal."""
        latest = self.latest_card()
        if latest is None:
            return
        scan = await self.scan()
        await self.check_card(latest[1], scan)
        old = {t for t, _ in self.keyed(latest[1], before)}
        twin = (self.twins or {}).get(kind.signature)
        reveals = (*step.reveals, step.target)
        if len(reveals) > 2:
            return
        for target, _b in self.keyed(latest[1], scan):
            if target in old or target in reveals or target.key.startswith("?:") or \
                    (twin is not None and (target.key in twin.keys or target.key in self.english_clicked)):
                continue
            if target.rank == 0 or target.key not in {t.key for t in old}:
                self._queue(kind.signature, Step(reveals, target))

    def _same_as_clicked(self, sig: str, step: Step) -> bool:
        """The step's button sends exactly what a clicked one sent (see :func:`leave_identity`), or the
        same step was clicked on a card of the same look (see :func:`look`)."""
        kind = self.kinds.get(sig)
        if kind is not None and self.team.clicked_on_look(kind, step):
            return True
        return not step.reveals and not step.filled and self._leaves.get((sig, step.target.key)) in self.leaves_clicked

    async def try_step(self, sig: str, step: Step) -> None:
        kind = self.kinds[sig]
        if self._same_as_clicked(sig, step):
            self.stats.same_as_clicked += 1
            return
        try:
            if not await self.goto(sig, step.reveals[0].key if step.reveals else step.target.key):
                self.stats.left_out.append(f"{kind.label} → {step.target.key}: its route no longer leads there")
                return
            if await self.perform(step, current=kind):
                self.team.mark_clicked(kind, step)
                return
            # a button the data no longer shows (a seat removed, a package cancelled by the walk)
            if await self.restore(kind) and await self._reach(kind) and await self.perform(step, current=kind):
                self.team.mark_clicked(kind, step)
                return
            self.stats.left_out.append(f"{kind.label} → {step.target.key}: button not found")
        except Exception as error:  # noqa: BLE001 - one broken step must not hide the others
            await self.fail(kind.label, step.target.key,
                            f"the walk could not click: {str(error).splitlines()[0][:200]}")
            self._fresh = False

    async def reach_twins(self) -> None:
        """Reach every kind the English walk found (what its first click sent, sent again in this
        language) and check it here; its buttons the English twin lacked are queued."""
        assert self.twins is not None
        first = next(iter(self.twins.values()), None)
        if first is not None and first.snapshot is not None and self.snapshots is not None:
            # the English walk's data at its start: the kinds are reached again in the order it found
            # them, each by what first showed it, so the data goes the English walk's way
            await self.restore_data(first.snapshot)
        for sig, twin in self.twins.items():
            if sig in self.kinds or sig in self.team.reached:
                continue
            if self._out_of_budget():
                self.stats.left_out.append(f"{twin.label}: not reached (budget)")
                continue
            self.team.reached.add(sig)
            try:
                if not await self._reach(twin) and await self.restore(twin):
                    await self._reach(twin)
                latest = self.latest_card()
                if latest is None or signature(latest[1], self._via) != sig:
                    got = self.kind_label(latest[1]) if latest else "no card"
                    await self.screenshot(f"not-reached-{twin.label.split(' [')[0][:30]}")
                    self.stats.left_out.append(f"{twin.label}: what reached it in en-US gave {got} in {self.locale}")
                    continue
                await self.arrive(twin.route, twin.via_verb, None, "", request=twin.request, snapshot=twin.snapshot)
            except Exception as error:  # noqa: BLE001 - one broken kind must not hide the others
                await self.fail(twin.label, "", f"the walk could not reach it: {str(error).splitlines()[0][:200]}")


async def switch_language(page: Page, pg: Playground, choice: str, folder: Path) -> None:
    """Choose a language with the bot's own language card, as a person does."""
    count = len(pg.messages)
    box = page.get_by_role("textbox").last
    await box.fill("language")
    await box.press("Enter")
    await until(lambda: any(m.cards for m in pg.messages[count:]), 10)
    await asyncio.sleep(0.3)
    await page.locator(TOP_CARD).last.get_by_role("button", name=choice, exact=True).click()
    with contextlib.suppress(Exception):
        await page.wait_for_timeout(800)
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"000-language-{choice}.jpg"), quality=SHOT_QUALITY)
