"""The keys a *Get keys* click revealed, with the matching downloads and special instructions.

Seed (software step 3): reveal the product license keys, choose the display language and the OS
type, follow the links to download the installation packages, and follow any special
instructions. The card says that the reveal was recorded, because revealing counts as activating
the benefit (and so bars a refund of its package).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cards.base import Card, card, execute, heading, open_url, text
from cards.benefit_list import LIST_VERBS
from cards.text import compose, link
from domain.models import Benefit, DownloadLink, Person, ProductKey
from services.i18n import DEFAULT_LOCALE, Translator


def _choice_text(t: Translator, language: str, os_type: str) -> str:
    """``English, 64-bit`` in the person's language; a dimension the keys do not vary by is left out."""
    return t("software.choice_separator").join(t.choice("choices", v) for v in (language, os_type) if v)


def download_label(t: Translator, benefit: Benefit, download: DownloadLink) -> str:
    """The inventory's label in this locale if it has one, else the product and the choice, localized."""
    own = (download.i18n.get("label") or {}).get(t.locale)
    if own:
        return own
    if download.label and t.locale == DEFAULT_LOCALE and not download.i18n.get("label"):
        return download.label
    return t("software.download_label", product=t.pick(benefit, "name"),
             choice=_choice_text(t, download.language, download.os))


def keys_card(benefit: Benefit, keys: list[ProductKey], language: str, os_type: str, actor: Person,
              at: datetime, t: Translator, page: int = 0) -> Card:
    name = t.pick(benefit, "name")
    instructions = t.pick(benefit, "special_instructions")
    body: list[dict[str, Any]] = [
        {"type": "Container", "style": "good", "items": [
            text(t("software.recorded", person=actor.name, date=t.datetime(at)), weight="Bolder")]},
        heading(t("software.keys_title", benefit=name)),
    ]
    if instructions:
        body.append(text(compose("**{label}:** {value}", label=t("benefits.special_instructions"),
                                 value=instructions)))
        body.append(text(t("benefits.special_instructions_hint"), isSubtle=True, size="Small"))
    chosen = _choice_text(t, language, os_type)
    if chosen:
        body.append(text(chosen, weight="Bolder"))
    if keys:
        for n, key in enumerate(keys):
            body.append(text(key.key, id=f"key-{n}", fontType="Monospace", size="Medium"))
    else:
        body.append(text(t("software.no_keys"), isSubtle=True))
    links = [d for d in benefit.downloads if d.language == language and d.os == os_type]
    actions: list[dict[str, Any]] = []
    if benefit.downloads:
        body.append(text(t("software.downloads")))
        if not links:
            body.append(text(t("software.no_downloads"), isSubtle=True))
        for d in links:
            label = download_label(t, benefit, d)
            body.append(text(link(t("software.download", label=label), d.url)))
            actions.append(open_url(t("software.download", label=label), d.url))
    actions.append(execute(t("benefits.back_to_list"), LIST_VERBS[benefit.category], {"page": page}))
    return card(body, actions)
