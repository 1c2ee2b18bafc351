"""The seeds' rules, each tested so that dropping it fails a test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import (
    Assignment,
    Benefit,
    BenefitKind,
    BenefitPackage,
    KeyReveal,
    Person,
    Role,
    Status,
)

TODAY = date(2026, 11, 22)
ADMIN = Person("a", "Alex", "alex@contoso.com", frozenset({Role.GLOBAL_ADMIN}))
MPN = Person("m", "Megan", "megan@contoso.com", frozenset({Role.MPN_PARTNER_ADMIN}))
USER_ADMIN = Person("u", "Isaiah", "isaiah@contoso.com", frozenset({Role.USER_ADMIN}))
EMPLOYEE = Person("e", "Lee", "lee@contoso.com")


def code_of(fn, *args) -> str:
    with pytest.raises(RuleViolation) as info:
        fn(*args)
    return info.value.code


def test_only_global_admins_assign_benefits() -> None:
    rules.require_can_assign_benefits(ADMIN)
    for person in (MPN, USER_ADMIN, EMPLOYEE):
        assert code_of(rules.require_can_assign_benefits, person) == errors.NEEDS_GLOBAL_ADMIN


def test_go_to_market_needs_global_or_mpn_partner_admin() -> None:
    rules.require_can_manage_go_to_market(ADMIN)
    rules.require_can_manage_go_to_market(MPN)
    for person in (USER_ADMIN, EMPLOYEE):
        assert code_of(rules.require_can_manage_go_to_market, person) == errors.NEEDS_GTM_ROLE


def test_keys_are_for_admins_only() -> None:
    assert rules.can_reveal_keys(USER_ADMIN) and not rules.can_reveal_keys(EMPLOYEE)


def test_alternate_email_must_differ_from_account_emails() -> None:
    accepted = rules.validate_alternate_email(" lee.home@example.org ", EMPLOYEE, "pc@contoso.com")
    assert accepted == "lee.home@example.org"
    same = code_of(rules.validate_alternate_email, "LEE@contoso.com", EMPLOYEE, "pc@contoso.com")
    assert same == errors.ALTERNATE_EMAIL_SAME_AS_ACCOUNT
    org = code_of(rules.validate_alternate_email, "pc@contoso.com", EMPLOYEE, "pc@contoso.com")
    assert org == errors.ALTERNATE_EMAIL_SAME_AS_ACCOUNT
    for bad in ("not-an-email", "a@b", "a b@c.com", "@contoso.com"):
        assert code_of(rules.validate_alternate_email, bad, EMPLOYEE, "pc@contoso.com") == errors.INVALID_EMAIL
    assert code_of(rules.validate_alternate_email, "  ", EMPLOYEE, "") == errors.MISSING_FIELD


def test_usage_based_azure_is_assigned_to_yourself_only() -> None:
    azure = Benefit("az", "p", BenefitKind.CLOUD_USAGE_BASED, "Azure")
    rules.usage_based_assignee_must_be_self(azure, ADMIN, ADMIN)
    assert code_of(rules.usage_based_assignee_must_be_self, azure, ADMIN, EMPLOYEE) == errors.USAGE_BASED_SELF_ONLY
    vs = Benefit("vs", "p", BenefitKind.VISUAL_STUDIO, "VS")
    rules.usage_based_assignee_must_be_self(vs, ADMIN, EMPLOYEE)


def _assignment(benefit: Benefit, person: Person, removed: bool = False) -> Assignment:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    return Assignment(f"{benefit.id}-{person.id}", benefit.id, person.id, "a", now,
                      removed_at=now if removed else None)


def test_never_more_assignments_than_seats_and_one_seat_per_person() -> None:
    vs = Benefit("vs", "p", BenefitKind.VISUAL_STUDIO, "VS", quantity=2)
    taken = [_assignment(vs, EMPLOYEE)]
    rules.require_seat_for(vs, MPN, taken)
    assert code_of(rules.require_seat_for, vs, EMPLOYEE, taken) == errors.ALREADY_ASSIGNED
    full = taken + [_assignment(vs, MPN)]
    assert code_of(rules.require_seat_for, vs, ADMIN, full) == errors.NO_SEATS_LEFT
    freed = [_assignment(vs, EMPLOYEE), _assignment(vs, MPN, removed=True)]
    rules.require_seat_for(vs, ADMIN, freed)


def test_fully_assigned_visual_studio_is_locked_for_90_days() -> None:
    vs = Benefit("vs", "p", BenefitKind.VISUAL_STUDIO, "VS", quantity=1, fully_assigned_on=TODAY)
    with pytest.raises(RuleViolation) as info:
        rules.require_can_remove_assignment(vs, TODAY + timedelta(days=89))
    assert info.value.code == errors.REASSIGN_LOCKED and info.value.params["until"] == TODAY + timedelta(days=90)
    rules.require_can_remove_assignment(vs, TODAY + timedelta(days=90))
    assert rules.fully_assigned_on_after(vs, 1, TODAY + timedelta(days=5)) == TODAY  # clock keeps its start
    assert rules.fully_assigned_on_after(vs, 0, TODAY) is None


def test_go_to_market_needs_a_marketing_contact_first() -> None:
    assert code_of(rules.require_marketing_contact, None) == errors.NO_MARKETING_CONTACT


def _package(days_ago: int) -> BenefitPackage:
    return BenefitPackage("p", "Action Pack", TODAY - timedelta(days=days_ago), "Action Pack")


def test_refund_within_30_days_with_nothing_used() -> None:
    software = Benefit("sw", "p", BenefitKind.SOFTWARE, "Office")
    assert rules.can_cancel_for_refund(_package(30), [software], [], TODAY) == []
    late = rules.can_cancel_for_refund(_package(31), [software], [], TODAY)
    assert [v.code for v in late] == [errors.REFUND_WINDOW_PASSED]


def test_refund_refused_when_software_activated_or_key_viewed() -> None:
    active = Benefit("sw", "p", BenefitKind.SOFTWARE, "Office", status=Status.ACTIVE)
    codes = [v.code for v in rules.can_cancel_for_refund(_package(3), [active], [], TODAY)]
    assert codes == [errors.REFUND_SOFTWARE_ACTIVATED]
    fresh = Benefit("sw", "p", BenefitKind.SOFTWARE, "Office")
    reveal = KeyReveal("r", "sw", "a", datetime(2026, 11, 20, tzinfo=UTC))
    codes = [v.code for v in rules.can_cancel_for_refund(_package(40), [fresh], [reveal], TODAY)]
    assert codes == [errors.REFUND_WINDOW_PASSED, errors.REFUND_KEY_VIEWED]


def test_the_last_global_admin_cannot_lose_the_role() -> None:
    people = [ADMIN, EMPLOYEE]
    assert code_of(rules.require_keeps_a_global_admin, people, "a", frozenset()) == errors.LAST_GLOBAL_ADMIN
    rules.require_keeps_a_global_admin(people + [Person("b", "B", "b@c.com", frozenset({Role.GLOBAL_ADMIN}))],
                                       "a", frozenset())


def test_activation_needs_pending_and_a_later_expiry() -> None:
    offer = Benefit("x", "p", BenefitKind.GO_TO_MARKET_OFFER, "X")
    assert code_of(rules.require_pending, Status.NOT_ACTIVATED, offer) == errors.NOT_PENDING
    rules.require_pending(Status.PENDING_ACTIVATION, offer)
    assert code_of(rules.require_valid_expiry, TODAY, TODAY) == errors.INVALID_DATE


def test_active_past_expiry_is_expired() -> None:
    assert rules.effective_status(Status.ACTIVE, TODAY - timedelta(days=1), TODAY) is Status.EXPIRED
    assert rules.effective_status(Status.ACTIVE, TODAY, TODAY) is Status.ACTIVE


def test_phone_validation() -> None:
    assert rules.validate_phone("+86 10 1234 5678") == "+86 10 1234 5678"
    for bad in ("12", "call me", "+1" + "2" * 20):
        with pytest.raises(RuleViolation):
            rules.validate_phone(bad)
