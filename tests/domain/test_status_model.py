"""The one status model: a benefit's status agrees with its assignees', expiry and units are explicit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import Assignment, Benefit, BenefitKind, BenefitPackage, ProductKey, Status, Unit

TODAY = date(2026, 11, 22)
PACKAGE = BenefitPackage("pkg", "Gold", TODAY - timedelta(days=200), "Gold competency",
                         expires_on=TODAY + timedelta(days=165))


def seat(benefit: Benefit, status: Status, person: str = "lee", **kw: object) -> Assignment:
    return Assignment(f"a-{person}", benefit.id, person, "alex", datetime(2026, 11, 1, tzinfo=UTC), status, **kw)


def test_a_pending_assignee_makes_a_not_activated_benefit_pending() -> None:
    support = Benefit("tech", "pkg", BenefitKind.SUPPORT_INCIDENTS, "Support", quantity=20)
    pending = seat(support, Status.PENDING_ACTIVATION)
    assert rules.benefit_status(support, [pending], TODAY, PACKAGE) is Status.PENDING_ACTIVATION
    assert rules.assignment_status(pending, support, TODAY, PACKAGE) is Status.PENDING_ACTIVATION
    assert rules.benefit_status(support, [], TODAY, PACKAGE) is Status.NOT_ACTIVATED


def test_an_active_assignee_makes_the_benefit_active_and_removed_ones_do_not_count() -> None:
    vs = Benefit("vs", "pkg", BenefitKind.VISUAL_STUDIO, "VS", quantity=3)
    active = seat(vs, Status.ACTIVE)
    removed = seat(vs, Status.ACTIVE, "nestor", removed_at=datetime(2026, 11, 2, tzinfo=UTC))
    assert rules.benefit_status(vs, [active], TODAY, PACKAGE) is Status.ACTIVE
    assert rules.benefit_status(vs, [removed], TODAY, PACKAGE) is Status.NOT_ACTIVATED


def test_expiry_comes_from_the_assignment_then_the_benefit_then_the_package() -> None:
    vs = Benefit("vs", "pkg", BenefitKind.VISUAL_STUDIO, "VS", status=Status.ACTIVE)
    assert rules.expiry_of(vs, PACKAGE) == PACKAGE.expires_on
    own = Benefit("vs", "pkg", BenefitKind.VISUAL_STUDIO, "VS", expires_on=TODAY + timedelta(days=10))
    assert rules.expiry_of(own, PACKAGE) == TODAY + timedelta(days=10)
    assert rules.expiry_of(own, PACKAGE, seat(own, Status.ACTIVE, expires_on=TODAY)) == TODAY
    assert rules.expiry_of(vs, None) is None


def test_an_active_benefit_of_an_expired_package_is_expired_and_a_cancelled_package_cancels() -> None:
    vs = Benefit("vs", "pkg", BenefitKind.VISUAL_STUDIO, "VS", status=Status.ACTIVE)
    old = BenefitPackage("pkg", "Old", TODAY - timedelta(days=400), "Gold", expires_on=TODAY - timedelta(days=1))
    assert rules.benefit_status(vs, [], TODAY, old) is Status.EXPIRED
    cancelled = BenefitPackage("pkg", "C", TODAY, "Gold", status=Status.CANCELLED)
    assert rules.benefit_status(vs, [seat(vs, Status.ACTIVE)], TODAY, cancelled) is Status.CANCELLED


def test_activate_by_matters_only_before_activation() -> None:
    assert rules.activate_by_applies(Status.NOT_ACTIVATED)
    assert not any(rules.activate_by_applies(s) for s in (Status.ACTIVE, Status.PENDING_ACTIVATION, Status.EXPIRED))


def test_units_are_never_added_across() -> None:
    technical = [Benefit("s", "p", BenefitKind.SUPPORT_INCIDENTS, "S", quantity=20),
                 Benefit("h", "p", BenefitKind.ADVISORY_HOURS, "H", quantity=50),
                 Benefit("d", "p", BenefitKind.PRESALES, "D", quantity=1)]
    assert rules.units_of(technical) == {Unit.INCIDENT: 20, Unit.HOUR: 50, Unit.SERVICE: 1}
    assert not rules.quantity_is_seats(technical[1])
    assert rules.quantity_is_seats(Benefit("v", "p", BenefitKind.VISUAL_STUDIO, "V"))


def test_a_locked_last_seat_refusal_says_until_when_instead_of_remove_first() -> None:
    vs = Benefit("vs", "pkg", BenefitKind.VISUAL_STUDIO, "VS", quantity=1, fully_assigned_on=TODAY)
    taken = [seat(vs, Status.ACTIVE)]
    from domain.models import Person

    megan = Person("megan", "Megan", "megan@contoso.com")
    with pytest.raises(RuleViolation) as locked:
        rules.require_seat_for(vs, megan, taken, TODAY)
    assert locked.value.code == errors.NO_SEATS_LEFT_LOCKED and locked.value.params["until"] == TODAY + timedelta(
        days=90)
    with pytest.raises(RuleViolation) as free:
        rules.require_seat_for(vs, megan, taken, TODAY + timedelta(days=90))
    assert free.value.code == errors.NO_SEATS_LEFT


def _keys(*pairs: tuple[str, str]) -> tuple[ProductKey, ...]:
    return tuple(ProductKey(f"k{n}", lang, os_, f"KEY-{n}") for n, (lang, os_) in enumerate(pairs))


def test_only_the_dimensions_the_keys_vary_by_are_asked() -> None:
    saas = Benefit("d", "p", BenefitKind.CLOUD_LICENSE_BASED, "D365", keys=_keys(("English", ""), ("Chinese", "")))
    assert rules.asked_key_choices(saas) == {"language": ["English", "Chinese"]}
    one_os = Benefit("o", "p", BenefitKind.SOFTWARE, "O", keys=_keys(("English", "64-bit"), ("Chinese", "64-bit")))
    assert list(rules.asked_key_choices(one_os)) == ["language"]
    assert rules.resolve_key_choice(one_os, "os", "") == "64-bit"
    both = Benefit("w", "p", BenefitKind.SOFTWARE, "W", keys=_keys(("English", "64-bit"), ("English", "32-bit")))
    assert list(rules.asked_key_choices(both)) == ["os"]
    with pytest.raises(RuleViolation) as info:
        rules.resolve_key_choice(both, "os", "ARM")
    assert info.value.params["field"] == "key_os"
