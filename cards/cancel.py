"""Cancel a membership benefit: packages with purchase date, refund deadline and what blocks a refund.

Seed: a refund needs the request "within 30 days of purchase" and no software benefit activated
(Partner Center adds: no product key viewed). The card shows every failing condition per package,
so nobody has to click to learn why a refund is impossible; cancelling asks for confirmation.
"""

from __future__ import annotations

from typing import Any

from cards.base import Card, about, card, execute, facts, heading, notice, subheading, text
from domain import rules
from domain.errors import RuleViolation
from domain.models import BenefitPackage, ServiceRequest, Status
from services.i18n import Translator


def reasons_text(t: Translator, failures: list[RuleViolation]) -> list[str]:
    return [t(f.code, **f.params) for f in failures]


def cancel_list_card(t: Translator, checks: list[tuple[BenefitPackage, list[RuleViolation]]],
                     outcome: dict[str, Any] | None = None,
                     open_requests: dict[str, ServiceRequest] | None = None) -> Card:
    """One section per package; a *Cancel and request a refund* button only where nothing blocks it,
    and a package whose cancellation request is open shows that request instead."""
    open_requests = open_requests or {}
    body: list[dict[str, Any]] = [heading(t("cancel.title"))]
    if outcome:
        body.append(notice(t, outcome["key"], outcome.get("style", "good"), **outcome.get("params", {})))
    body.append(text(t("cancel.intro")))
    if not checks:
        body.append(text(t("cancel.no_packages")))
    for index, (package, failures) in enumerate(checks):
        items: list[dict[str, Any]] = [
            subheading(t.label(package)),
            facts([(t("cancel.program"), t.pick(package, "source_program")),
                   (t("cancel.purchased"), t.date(package.purchased_on)),
                   (t("cancel.deadline"), t.date(rules.refund_deadline(package))),
                   (t("cancel.status"), t(f"status.{package.status.value}"))]),
        ]
        request = open_requests.get(package.id)
        if package.status is Status.CANCELLED:
            pass
        elif request is not None:
            stage = rules.service_request_stage(request)
            items.append(text(t("cancel.request_open", status=t(f"status.{stage.value}"),
                                number=request.partner_center_number or t("requests.sr_no_number")),
                              weight="Bolder"))
            items.append({"type": "ActionSet", "actions": [
                execute(t("cancel.open_request", package=t.label(package)), "service_request",
                        {"request_id": request.id})]})
        elif failures:
            items.append(text(t("cancel.not_refundable"), weight="Bolder", color="Attention"))
            items.extend(text(f"• {reason}") for reason in reasons_text(t, failures))
        else:
            items.append(text(t("cancel.refundable", deadline=rules.refund_deadline(package)), color="Good"))
            items.append({"type": "ActionSet", "actions": [
                about(t, execute(t("cancel.cancel_button"), "cancel_package", {"package_id": package.id}),
                      package.name)]})
        items.append({"type": "ActionSet", "actions": [
            about(t, execute(t("cancel.changes_of", package=t.label(package)), "recent_changes",
                             {"subject_id": package.id, "back": "cancel_start"}), t.label(package))]})
        body.append({"type": "Container", "id": f"package-{index}", "separator": True, "items": items})
    return card(body)


def confirm_card(t: Translator, package: BenefitPackage, benefit_names: list[str]) -> Card:
    """The confirmation step: what will be cancelled, and the way back."""
    body = [
        heading(t("cancel.confirm_title", package=t.label(package))),
        text(t("cancel.confirm_text", package=t.label(package))),
        *(text(f"• {name}") for name in benefit_names),
        text(t("cancel.service_request")),
        text(t("cancel.confirm_how"), isSubtle=True),
    ]
    return card(body, [
        execute(t("cancel.confirm_button"), "cancel_package", {"package_id": package.id, "confirm": "yes"}),
        execute(t("cancel.keep_button"), "cancel_start"),
    ])
