"""Rule violations: what the domain says when an action is not allowed.

A violation carries a message-catalog key (``errors.<name>``) and its parameters instead of a
sentence, so the presentation layer can say it in the user's language. Codes are named constants
so tests and callers never match on free text.
"""

from __future__ import annotations

from typing import Any

NOT_AN_ADMIN = "errors.not_an_admin"
NEEDS_GLOBAL_ADMIN = "errors.needs_global_admin"
NEEDS_GTM_ROLE = "errors.needs_gtm_role"
INVALID_EMAIL = "errors.invalid_email"
ALTERNATE_EMAIL_SAME_AS_ACCOUNT = "errors.alternate_email_same_as_account"
USAGE_BASED_SELF_ONLY = "errors.usage_based_self_only"
NO_SEATS_LEFT = "errors.no_seats_left"
NO_SEATS_LEFT_LOCKED = "errors.no_seats_left_locked"
ALREADY_ASSIGNED = "errors.already_assigned"
REASSIGN_LOCKED = "errors.reassign_locked"
NOT_ASSIGNED = "errors.not_assigned"
WRONG_KIND = "errors.wrong_kind"
NO_MARKETING_CONTACT = "errors.no_marketing_contact"
INVALID_PHONE = "errors.invalid_phone"
INVALID_LANGUAGE = "errors.invalid_language"
REFUND_WINDOW_PASSED = "errors.refund_window_passed"
REFUND_SOFTWARE_ACTIVATED = "errors.refund_software_activated"
REFUND_KEY_VIEWED = "errors.refund_key_viewed"
ALREADY_CANCELLED = "errors.already_cancelled"
NOT_PENDING = "errors.not_pending"
ALREADY_ACTIVE = "errors.already_active"
INVALID_DATE = "errors.invalid_date"
MISSING_FIELD = "errors.missing_field"
TOO_LONG = "errors.too_long"
NOT_TEXT = "errors.not_text"
UNKNOWN_BENEFIT = "errors.unknown_benefit"
UNKNOWN_PERSON = "errors.unknown_person"
UNKNOWN_PACKAGE = "errors.unknown_package"
UNKNOWN_REQUEST = "errors.unknown_request"
REQUEST_ALREADY_DECIDED = "errors.request_already_decided"
INVALID_REQUEST_NUMBER = "errors.invalid_request_number"
REQUEST_NOT_PREPARED = "errors.request_not_prepared"
REQUEST_CLOSED = "errors.request_closed"
OUTCOME_NOT_ALLOWED = "errors.outcome_not_allowed"
BENEFIT_CANCELLED = "errors.benefit_cancelled"
LAST_GLOBAL_ADMIN = "errors.last_global_admin"
NAME_LOOKS_LIKE = "errors.name_looks_like"
INVALID_NAME = "errors.invalid_name"

#: A refusal quotes what was typed at most this long: enough to recognize it, never a whole paste.
EXCERPT_LENGTH = 60


def excerpt(value: str, limit: int = EXCERPT_LENGTH) -> str:
    """The first ``limit`` characters of ``value`` (an ellipsis says there was more)."""
    return value if len(value) <= limit else value[:limit - 1] + "…"


class RuleViolation(Exception):
    """An action the seeds' rules forbid; ``code`` is a catalog key, ``params`` fill it in.

    Text parameters often echo what someone typed: they are kept to a short :func:`excerpt`.
    """

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = {k: excerpt(v) if isinstance(v, str) else v for k, v in params.items()}

    def __repr__(self) -> str:
        return f"RuleViolation({self.code!r}, {self.params!r})"


class RuleViolations(RuleViolation):
    """Several conditions failed at once (e.g. a refund refused for two reasons): say them all."""

    def __init__(self, violations: list[RuleViolation]) -> None:
        super().__init__(violations[0].code, **violations[0].params)
        self.violations = violations
