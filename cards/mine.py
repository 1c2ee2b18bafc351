"""My benefits: what one person holds, its status and expiry, and how to start using it.

Only the person's own holdings reach this card (``BenefitsService.holdings``), and it never shows
product keys: employees never see keys, and admins get them from the software list instead.
"""

from __future__ import annotations

from typing import Any

from cards.base import Card, card, execute, facts, heading, open_url, text
from cards.paging import Page, pager
from domain.models import BenefitKind, Category, Status
from services.benefits import Holding
from services.i18n import Translator

VISUAL_STUDIO_PORTAL = "https://my.visualstudio.com"
AZURE_PORTAL = "https://portal.azure.com"


def how_to_start(t: Translator, holding: Holding) -> tuple[list[str], list[dict[str, Any]]]:
    """Sentences and links that tell the holder how to start using the benefit."""
    benefit, assignment = holding.benefit, holding.assignment
    lines: list[str] = []
    links: list[dict[str, Any]] = []
    if benefit.kind is BenefitKind.VISUAL_STUDIO:
        lines.append(t("mine.how.visual_studio"))
        links.append(open_url(t("mine.open_vs_portal"), VISUAL_STUDIO_PORTAL))
    elif benefit.kind is BenefitKind.CLOUD_USAGE_BASED:
        lines.append(t("mine.how.azure"))
        links.append(open_url(t("mine.open_azure_portal"), benefit.portal_url or AZURE_PORTAL))
    elif benefit.category is Category.TECHNICAL:
        alternate = assignment.alternate_email if assignment else ""
        lines.append(t("mine.how.technical", alternate=alternate) if alternate else t("mine.how.technical_plain"))
    elif benefit.kind is BenefitKind.GO_TO_MARKET_OFFER:
        lines.append(t("mine.how.go_to_market"))
    elif benefit.portal_url:
        links.append(open_url(t("mine.open_portal"), benefit.portal_url))
    instructions = t.pick(benefit, "special_instructions")
    if instructions:
        lines.append(t("mine.special_instructions", text=instructions))
    if holding.status is Status.PENDING_ACTIVATION:
        lines.append(t("mine.pending"))
    return lines, links


def no_expiry(t: Translator, status: Status) -> str:
    """Without a date: before activation it comes with the activation; after it, there is none."""
    if status in (Status.NOT_ACTIVATED, Status.PENDING_ACTIVATION):
        return t("mine.expiry_on_activation")
    return t("mine.no_expiry")


def my_benefits_card(t: Translator, name: str, holdings: Page[Holding]) -> Card:
    """A page of what the person holds, each with how to start using it."""
    body: list[dict[str, Any]] = [heading(t("mine.title"))]
    if not holdings.rows:
        body.append(text(t("mine.empty", name=name)))
        return card(body, [execute(t("mine.request"), "request_benefit")])
    body.append(text(t.plural("mine.intro", holdings.total), isSubtle=True))
    for index, holding in enumerate(holdings.rows):
        benefit = holding.benefit
        name, offer_type = t.pick(benefit, "name"), t.pick(benefit, "offer_type")
        title = f"{name} · {offer_type}" if offer_type else name
        lines, links = how_to_start(t, holding)
        items: list[dict[str, Any]] = [
            text(title, weight="Bolder", size="Medium"),
            facts([(t("mine.category"), t(f"mine.category.{benefit.category.value}")),
                   (t("mine.status"), t(f"status.{holding.status.value}")),
                   (t("mine.expires"), t.date(holding.expires_on) or no_expiry(t, holding.status))]),
            *(text(line) for line in lines),
        ]
        if holding.assignment is None and benefit.kind is BenefitKind.GO_TO_MARKET_OFFER:
            items.append(text(t("mine.as_marketing_contact"), isSubtle=True, size="Small"))
        if links:
            items.append({"type": "ActionSet", "actions": links})
        body.append({"type": "Container", "id": f"holding-{index}", "separator": True, "items": items})
    line, buttons = pager(t, holdings, "my_benefits", t("paging.holdings"))
    return card(body + line, [execute(t("mine.request"), "request_benefit"), *buttons])
