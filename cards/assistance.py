"""Request technical assistance with advisory hours or presales (seed, technical benefits step 4).

The form asks for the phase (presales, design, deployment, app development), a topic and a
description. Partner Center has no API for its request form, so the button prepares the request
(``cards.requests.service_request_card``) and the admin submits it in Partner Center.
"""

from __future__ import annotations

from typing import Any

from cards.base import Card, card, execute, heading, text
from domain.models import Benefit, Phase
from services.i18n import Translator


def assistance_form(benefit: Benefit, t: Translator, nonce: str = "", page: int = 0,
                    notice: dict[str, Any] | None = None) -> Card:
    data: dict[str, Any] = {"benefit_id": benefit.id, "page": page}
    if nonce:
        data["nonce"] = nonce
    body: list[dict[str, Any]] = [notice] if notice is not None else []
    body += [
        heading(t("technical.form_title", benefit=t.label(benefit))),
        text(t("technical.assistance_hint"), isSubtle=True),
        text(t("technical.form_hint")),
        text(t("technical.prepare_hint"), isSubtle=True),
        {"type": "Input.ChoiceSet", "id": "phase", "label": t("technical.phase"), "isRequired": True,
         "errorMessage": t("technical.phase_required"), "style": "expanded",
         "choices": [{"title": t(f"technical.phase.{p.value}"), "value": p.value} for p in Phase]},
        {"type": "Input.Text", "id": "topic", "label": t("technical.topic"), "isRequired": True, "maxLength": 200,
         "errorMessage": t("technical.topic_required")},
        {"type": "Input.Text", "id": "description", "label": t("technical.description"), "isRequired": True,
         "isMultiline": True, "maxLength": 4000, "errorMessage": t("technical.description_required")},
    ]
    return card(body, [execute(t("technical.prepare"), "submit_assistance", data),
                       {**execute(t("technical.cancel"), "list_technical", {"page": page}),
                        "associatedInputs": "none"}])
