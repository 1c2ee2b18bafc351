"""The rules of the seed documents, one function each, named after what they mean.

Every mutating workflow calls these on the server before it changes anything; the cards only show
what these functions allow. Functions are pure: they take the current state and ``today`` / ``now``
and either return a value or raise :class:`~domain.errors.RuleViolation`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

from domain import errors
from domain.errors import RuleViolation, RuleViolations
from domain.models import (
    Assignment,
    Benefit,
    BenefitKind,
    BenefitPackage,
    Category,
    KeyReveal,
    MarketingContact,
    Person,
    RequestKind,
    RequestOutcome,
    RequestStatus,
    Role,
    ServiceRequest,
    Status,
    Unit,
)

#: Roles the seeds list as "Appropriate roles" for the Benefits page.
ADMIN_ROLES = frozenset({Role.GLOBAL_ADMIN, Role.USER_ADMIN, Role.ADMIN_AGENT, Role.MPN_PARTNER_ADMIN})
#: Go-to-market offers: "Appropriate roles to perform this task: Global admin, MPN Partner admin".
GO_TO_MARKET_ROLES = frozenset({Role.GLOBAL_ADMIN, Role.MPN_PARTNER_ADMIN})
#: Refunds: "within 30 days of purchase".
REFUND_WINDOW_DAYS = 30
#: Visual Studio: once every seat is assigned, a seat cannot be reassigned for 90 days.
VISUAL_STUDIO_REASSIGN_LOCK_DAYS = 90
#: Expiry reminders go out this many days before a benefit expires.
EXPIRY_REMINDER_DAYS = (30, 7)

#: Seed: "To request assistance, fill in the request form and then select Submit request".
ASSISTANCE_REQUEST_FORM = "https://partnercenter.microsoft.com/pcv/partnership/benefits/createadvisoryhoursservicerequest"
#: Seed: the Benefits page, where a cancellation is requested "through a service request" (the seeds
#: give no form of its own).
BENEFITS_PAGE = "https://partnercenter.microsoft.com/pcv/partnership/benefits"
#: A number Partner Center gave: letters, digits and dashes, with at least one digit.
REQUEST_NUMBER_MAX = 40
_REQUEST_NUMBER = re.compile(r"^(?=.*[0-9])[A-Za-z0-9](?:[A-Za-z0-9-]{2,38})[A-Za-z0-9]$")
REQUEST_NUMBER_PATTERN = _REQUEST_NUMBER.pattern

# A pragmatic address check: one @, a dotted domain, no spaces. Deliverability is Microsoft's job.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
# Digits with optional +, spaces, dashes, dots and parentheses; 7 to 15 digits (E.164 length).
_PHONE = re.compile(r"^\+?[0-9 ().-]{7,25}$")
EMAIL_PATTERN = _EMAIL.pattern
PHONE_PATTERN = _PHONE.pattern


def is_admin(person: Person) -> bool:
    """Anyone with one of the Benefits page's admin roles."""
    return bool(person.roles & ADMIN_ROLES)


def require_admin(person: Person) -> None:
    """Viewing allocations, revealing keys and filing cancellations are admin work."""
    if not is_admin(person):
        raise RuleViolation(errors.NOT_AN_ADMIN)


def can_assign_benefits(person: Person) -> bool:
    """Seed: "you do need to be the global admin to assign benefits to employees"."""
    return person.has(Role.GLOBAL_ADMIN)


def require_can_assign_benefits(person: Person) -> None:
    if not can_assign_benefits(person):
        raise RuleViolation(errors.NEEDS_GLOBAL_ADMIN)


def can_manage_go_to_market(person: Person) -> bool:
    """Seed: go-to-market tasks need Global admin or MPN Partner admin."""
    return bool(person.roles & GO_TO_MARKET_ROLES)


def require_can_manage_go_to_market(person: Person) -> None:
    if not can_manage_go_to_market(person):
        raise RuleViolation(errors.NEEDS_GTM_ROLE)


def can_manage_roles(person: Person) -> bool:
    """Only Global admins add people and grant roles."""
    return person.has(Role.GLOBAL_ADMIN)


def require_can_manage_roles(person: Person) -> None:
    if not can_manage_roles(person):
        raise RuleViolation(errors.NEEDS_GLOBAL_ADMIN)


def can_reveal_keys(person: Person) -> bool:
    """Product keys are shown to admins only."""
    return is_admin(person)


def require_can_reveal_keys(person: Person) -> None:
    if not can_reveal_keys(person):
        raise RuleViolation(errors.NOT_AN_ADMIN)


def normalize_email(value: str) -> str:
    return value.strip().lower()


def validate_email(value: str, field: str = "email") -> str:
    """Return the trimmed address or refuse it with the field's name."""
    text = value.strip()
    if not text:
        raise RuleViolation(errors.MISSING_FIELD, field=field)
    if len(text) > 254 or not _EMAIL.match(text):
        raise RuleViolation(errors.INVALID_EMAIL, value=text)
    return text


def validate_alternate_email(alternate: str, person: Person, account_email: str) -> str:
    """Seed: the user's address must differ from the company's Partner Center account email.

    Instructions go to this address *in addition to* the account email, so the same address twice
    defeats the safeguard: it may equal neither the person's company email nor the organization's
    Partner Center account email.
    """
    text = validate_email(alternate, "alternate_email")
    taken = {normalize_email(e) for e in (person.email, account_email) if e}
    if normalize_email(text) in taken:
        raise RuleViolation(errors.ALTERNATE_EMAIL_SAME_AS_ACCOUNT, value=text)
    return text


def validate_phone(value: str) -> str:
    text = value.strip()
    digits = sum(ch.isdigit() for ch in text)
    if not text:
        raise RuleViolation(errors.MISSING_FIELD, field="phone")
    if not _PHONE.match(text) or not 7 <= digits <= 15:
        raise RuleViolation(errors.INVALID_PHONE, value=text)
    return text


def validate_text(value: str, field: str, max_length: int) -> str:
    text = value.strip()
    if not text:
        raise RuleViolation(errors.MISSING_FIELD, field=field)
    if len(text) > max_length:
        raise RuleViolation(errors.TOO_LONG, field=field, max=max_length)
    return text


def current_assignments(benefit: Benefit, assignments: Iterable[Assignment]) -> list[Assignment]:
    return [a for a in assignments if a.benefit_id == benefit.id and a.is_current]


def seats_available(benefit: Benefit, assignments: Iterable[Assignment]) -> int:
    return max(0, benefit.quantity - len(current_assignments(benefit, assignments)))


def require_not_cancelled(benefit: Benefit) -> None:
    if benefit.status is Status.CANCELLED:
        raise RuleViolation(errors.BENEFIT_CANCELLED, benefit=benefit)


def require_seat_for(benefit: Benefit, person: Person, assignments: Iterable[Assignment],
                     today: date | None = None) -> None:
    """Never more assignments than seats, and one seat per person per benefit.

    With every seat taken, the advice depends on the reassignment lock: while it holds, removing a
    user is no way out, so the refusal says until when instead.
    """
    current = current_assignments(benefit, assignments)
    if any(a.person_id == person.id for a in current):
        raise RuleViolation(errors.ALREADY_ASSIGNED, person=person.name, benefit=benefit)
    if len(current) >= benefit.quantity:
        unlocked = reassign_unlocked_on(benefit)
        if today is not None and unlocked is not None and today < unlocked:
            raise RuleViolation(errors.NO_SEATS_LEFT_LOCKED, benefit=benefit, quantity=benefit.quantity,
                                until=unlocked, days=VISUAL_STUDIO_REASSIGN_LOCK_DAYS)
        raise RuleViolation(errors.NO_SEATS_LEFT, benefit=benefit, quantity=benefit.quantity)


def usage_based_assignee_must_be_self(benefit: Benefit, actor: Person, assignee: Person) -> None:
    """Seed: "To activate Microsoft Azure usage-based subscriptions, assign yourself as a user"."""
    if benefit.kind is BenefitKind.CLOUD_USAGE_BASED and assignee.id != actor.id:
        raise RuleViolation(errors.USAGE_BASED_SELF_ONLY, benefit=benefit)


def reassign_unlocked_on(benefit: Benefit) -> date | None:
    """The first day a fully assigned Visual Studio benefit may have a seat reassigned, if locked."""
    if benefit.kind is not BenefitKind.VISUAL_STUDIO or benefit.fully_assigned_on is None:
        return None
    return benefit.fully_assigned_on + timedelta(days=VISUAL_STUDIO_REASSIGN_LOCK_DAYS)


def require_can_remove_assignment(benefit: Benefit, today: date) -> None:
    """Partner Center: when every seat is assigned, a seat cannot be reassigned for 90 days."""
    unlocked = reassign_unlocked_on(benefit)
    if unlocked is not None and today < unlocked:
        raise RuleViolation(errors.REASSIGN_LOCKED, benefit=benefit, until=unlocked,
                            days=VISUAL_STUDIO_REASSIGN_LOCK_DAYS)


def fully_assigned_on_after(benefit: Benefit, current_count: int, today: date) -> date | None:
    """Start (or keep) the 90-day clock the moment the last seat is taken; stop it when a seat frees."""
    if benefit.kind is not BenefitKind.VISUAL_STUDIO:
        return None
    if current_count >= benefit.quantity:
        return benefit.fully_assigned_on or today
    return None


def status_after_assignment(benefit: Benefit) -> Status:
    """Visual Studio and Azure usage-based seats are usable at once; support and offers take days."""
    if benefit.kind in (BenefitKind.VISUAL_STUDIO, BenefitKind.CLOUD_USAGE_BASED):
        return Status.ACTIVE
    return Status.PENDING_ACTIVATION


def needs_alternate_email(benefit: Benefit) -> bool:
    """Technical benefits need an alternate address for the support instructions."""
    return benefit.category is Category.TECHNICAL


#: The choices a product key can vary by, in the order they are asked.
KEY_DIMENSIONS = ("language", "os")


def key_choices(benefit: Benefit) -> dict[str, list[str]]:
    """Every value each dimension takes among the benefit's keys and installation packages."""
    found: dict[str, list[str]] = {name: [] for name in KEY_DIMENSIONS}
    for item in (*benefit.keys, *benefit.downloads):
        for name in KEY_DIMENSIONS:
            value = getattr(item, name)
            if value and value not in found[name]:
                found[name].append(value)
    return found


def asked_key_choices(benefit: Benefit) -> dict[str, list[str]]:
    """The choices to ask before revealing keys: only dimensions the keys actually vary by.

    A SaaS licence has one key per language and no OS type: a dimension with one value (or none)
    is not a question.
    """
    return {name: values for name, values in key_choices(benefit).items() if len(values) > 1}


def resolve_key_choice(benefit: Benefit, name: str, chosen: str) -> str:
    """The value of one dimension: the only one there is (whatever a stale card sent), else the one
    chosen; refused if it is none of the benefit's."""
    values = key_choices(benefit)[name]
    if len(values) <= 1:
        return values[0] if values else ""
    if chosen not in values:
        raise RuleViolation(errors.MISSING_FIELD, field=f"key_{name}")
    return chosen


def has_keys(benefit: Benefit) -> bool:
    return benefit.kind in (BenefitKind.SOFTWARE, BenefitKind.CLOUD_LICENSE_BASED)


def require_keys_benefit(benefit: Benefit) -> None:
    if not has_keys(benefit):
        raise RuleViolation(errors.WRONG_KIND, benefit=benefit)


def is_assignable(benefit: Benefit) -> bool:
    """Benefits that are activated by assigning a person (software and licences use keys)."""
    return benefit.kind in (
        BenefitKind.CLOUD_USAGE_BASED,
        BenefitKind.VISUAL_STUDIO,
        BenefitKind.SUPPORT_INCIDENTS,
        BenefitKind.ADVISORY_HOURS,
        BenefitKind.PRESALES,
        BenefitKind.DEPLOYMENT,
    )


def accepts_assistance_requests(benefit: Benefit) -> bool:
    """Seed: presales assistance or advisory hours can be used to request technical assistance."""
    return benefit.kind in (BenefitKind.ADVISORY_HOURS, BenefitKind.PRESALES)


def require_marketing_contact(contact: MarketingContact | None) -> None:
    """Seed: "To activate any go-to-market benefit, you must first assign a company marketing contact"."""
    if contact is None:
        raise RuleViolation(errors.NO_MARKETING_CONTACT)


def require_can_request_offer_activation(benefit: Benefit) -> None:
    if benefit.kind is not BenefitKind.GO_TO_MARKET_OFFER:
        raise RuleViolation(errors.WRONG_KIND, benefit=benefit)
    require_not_cancelled(benefit)
    if benefit.status in (Status.PENDING_ACTIVATION, Status.ACTIVE):
        raise RuleViolation(errors.ALREADY_ACTIVE, benefit=benefit, status=benefit.status)


def require_pending(status: Status, benefit: Benefit) -> None:
    """Only something waiting for activation can be marked activated."""
    if status is not Status.PENDING_ACTIVATION:
        raise RuleViolation(errors.NOT_PENDING, benefit=benefit, status=status)


def require_valid_expiry(activated_on: date, expires_on: date | None) -> None:
    if expires_on is not None and expires_on <= activated_on:
        raise RuleViolation(errors.INVALID_DATE, field="expires_on")


def effective_status(status: Status, expires_on: date | None, today: date) -> Status:
    """An active benefit past its Expires date is expired, whether or not anyone stored that."""
    if status is Status.ACTIVE and expires_on is not None and expires_on < today:
        return Status.EXPIRED
    return status


# --- the status model: one status for a benefit and for each assignment, computed here only ------
#: When a benefit's own record and its assignments disagree, the most advanced state is the benefit's.
_PROGRESS = (Status.NOT_ACTIVATED, Status.EXPIRED, Status.PENDING_ACTIVATION, Status.ACTIVE)


def expiry_of(benefit: Benefit, package: BenefitPackage | None = None,
              assignment: Assignment | None = None) -> date | None:
    """The Expires date shown: the assignment's, else the benefit's, else its package's.

    A benefit is part of a package and ends with it unless Partner Center gave it a date of its own.
    """
    if assignment is not None and assignment.expires_on is not None:
        return assignment.expires_on
    if benefit.expires_on is not None:
        return benefit.expires_on
    return package.expires_on if package is not None else None


def assignment_status(assignment: Assignment, benefit: Benefit, today: date,
                      package: BenefitPackage | None = None) -> Status:
    """One assignee's status: the stored one, expired once its Expires date has passed."""
    if not assignment.is_current or benefit.status is Status.CANCELLED:
        return Status.CANCELLED
    return effective_status(assignment.status, expiry_of(benefit, package, assignment), today)


def benefit_status(benefit: Benefit, assignments: Iterable[Assignment], today: date,
                   package: BenefitPackage | None = None) -> Status:
    """A benefit's status, consistent with its assignees' statuses.

    A benefit activated by assigning people is as far along as its most advanced current assignee
    (an assignee pending activation makes the benefit pending, an active one makes it active);
    a cancelled package cancels the benefit; an active benefit past its Expires date is expired.
    """
    if benefit.status is Status.CANCELLED or (package is not None and package.status is Status.CANCELLED):
        return Status.CANCELLED
    held = [assignment_status(a, benefit, today, package) for a in current_assignments(benefit, assignments)]
    own = effective_status(benefit.status, expiry_of(benefit, package), today)
    candidates = [s for s in (own, *held) if s in _PROGRESS]
    return max(candidates, key=_PROGRESS.index) if candidates else own


def activate_by_applies(status: Status) -> bool:
    """The "Activate by" date matters only while the benefit is not yet activated."""
    return status is Status.NOT_ACTIVATED


def quantity_is_seats(benefit: Benefit) -> bool:
    """Whether the quantity counts seats held by people (assigned / available make sense).

    Visual Studio and Azure usage-based subscriptions are one seat per person; licences are used
    through keys, and technical benefits count incidents, hours or services, not people.
    """
    return benefit.kind in (BenefitKind.VISUAL_STUDIO, BenefitKind.CLOUD_USAGE_BASED)


def units_of(benefits: Iterable[Benefit]) -> dict[Unit, int]:
    """Allocated quantity per unit, in the order of ``Unit`` (never added across units)."""
    totals: dict[Unit, int] = {}
    for benefit in benefits:
        totals[benefit.unit] = totals.get(benefit.unit, 0) + benefit.quantity
    return {unit: totals[unit] for unit in Unit if unit in totals}


def refund_deadline(package: BenefitPackage) -> date:
    return package.purchased_on + timedelta(days=REFUND_WINDOW_DAYS)


def can_cancel_for_refund(
    package: BenefitPackage,
    benefits: Iterable[Benefit],
    reveals: Iterable[KeyReveal],
    today: date,
) -> list[RuleViolation]:
    """Seed: a refund needs the request "within 30 days of purchase" and no software benefit activated.

    Partner Center adds that viewing a product key counts as using the benefit. Returns every
    failing condition (empty list = allowed) so the admin is told exactly what stands in the way.
    """
    failures: list[RuleViolation] = []
    if package.status is Status.CANCELLED:
        return [RuleViolation(errors.ALREADY_CANCELLED, package=package)]
    deadline = refund_deadline(package)
    if today > deadline:
        failures.append(RuleViolation(errors.REFUND_WINDOW_PASSED, purchased=package.purchased_on,
                                      deadline=deadline))
    own = [b for b in benefits if b.package_id == package.id]
    activated = tuple(b for b in own if b.category is Category.SOFTWARE
                      and b.status in (Status.ACTIVE, Status.EXPIRED))
    if activated:
        failures.append(RuleViolation(errors.REFUND_SOFTWARE_ACTIVATED, benefits=activated))
    viewed_ids = {r.benefit_id for r in reveals}
    viewed = tuple(sorted((b for b in own if b.id in viewed_ids), key=lambda b: b.name))
    if viewed:
        failures.append(RuleViolation(errors.REFUND_KEY_VIEWED, benefits=viewed))
    return failures


def require_can_cancel_for_refund(
    package: BenefitPackage, benefits: Iterable[Benefit], reveals: Iterable[KeyReveal], today: date
) -> None:
    failures = can_cancel_for_refund(package, benefits, reveals, today)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise RuleViolations(failures)


def require_keeps_a_global_admin(people: Iterable[Person], person_id: str, new_roles: frozenset[Role]) -> None:
    """The organization never loses its last Global admin (nobody could assign benefits again)."""
    if Role.GLOBAL_ADMIN in new_roles:
        return
    others = [p for p in people if p.id != person_id and p.has(Role.GLOBAL_ADMIN)]
    if not others:
        raise RuleViolation(errors.LAST_GLOBAL_ADMIN)


def reminders_due(expires_on: date | None, today: date) -> list[int]:
    """The expiry reminder due by ``today``: only the nearest one (at most one), none once expired.

    Someone first checked 5 days before the expiry gets the 7-day reminder, not a late 30-day one
    as well; the caller keys each reminder by its day count so that each goes out once.
    """
    if expires_on is None:
        return []
    due = [d for d in EXPIRY_REMINDER_DAYS if expires_on - timedelta(days=d) <= today < expires_on]
    return [min(due)] if due else []


# --- Partner Center service requests (assistance, cancellation) -----------------------------------
PARTNER_CENTER_KINDS = frozenset({RequestKind.ASSISTANCE, RequestKind.CANCELLATION})


def is_partner_center_request(request: ServiceRequest) -> bool:
    """Filed by an admin in Partner Center (no API exists for it); the bot prepares and tracks it."""
    return request.kind in PARTNER_CENTER_KINDS


def service_request_form(request: ServiceRequest) -> str:
    """Where the admin files it: the seeds' request form for assistance, the Benefits page otherwise."""
    return ASSISTANCE_REQUEST_FORM if request.kind is RequestKind.ASSISTANCE else BENEFITS_PAGE


def service_request_stage(request: ServiceRequest) -> RequestStatus:
    """Prepared until the admin records Partner Center's number, then submitted, then closed."""
    if request.status is RequestStatus.CLOSED:
        return RequestStatus.CLOSED
    return RequestStatus.SUBMITTED if request.partner_center_number else RequestStatus.PREPARED


def validate_request_number(value: str) -> str:
    """The number Partner Center showed after *Submit request*: 4 to 40 letters, digits or dashes."""
    text = value.strip()
    if len(text) > REQUEST_NUMBER_MAX or not _REQUEST_NUMBER.match(text):
        raise RuleViolation(errors.INVALID_REQUEST_NUMBER, max=REQUEST_NUMBER_MAX)
    return text


def require_request_prepared(request: ServiceRequest) -> None:
    """A number is recorded once, on a request not yet submitted nor closed."""
    stage = service_request_stage(request)
    if stage is RequestStatus.CLOSED:
        raise RuleViolation(errors.REQUEST_CLOSED)
    if stage is not RequestStatus.PREPARED:
        raise RuleViolation(errors.REQUEST_NOT_PREPARED, number=request.partner_center_number)


def allowed_outcomes(request: ServiceRequest) -> tuple[RequestOutcome, ...]:
    """How an open request may end: withdrawn while only prepared; once filed, what Microsoft did."""
    stage = service_request_stage(request)
    if stage is RequestStatus.CLOSED or not is_partner_center_request(request):
        return ()
    if stage is RequestStatus.PREPARED:
        return (RequestOutcome.WITHDRAWN,)
    if request.kind is RequestKind.CANCELLATION:
        return (RequestOutcome.CANCELLED, RequestOutcome.NOT_CANCELLED)
    return (RequestOutcome.COMPLETED, RequestOutcome.WITHDRAWN)


def require_outcome_allowed(request: ServiceRequest, outcome: str) -> RequestOutcome:
    if service_request_stage(request) is RequestStatus.CLOSED:
        raise RuleViolation(errors.REQUEST_CLOSED)
    for allowed in allowed_outcomes(request):
        if allowed.value == outcome:
            return allowed
    raise RuleViolation(errors.OUTCOME_NOT_ALLOWED)
