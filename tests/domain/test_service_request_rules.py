"""The rules of Partner Center service requests: the number Partner Center gave, the stages, the outcomes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import RequestKind, RequestOutcome, RequestStatus, ServiceRequest

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _request(kind: RequestKind = RequestKind.CANCELLATION) -> ServiceRequest:
    return ServiceRequest(id="r", reference="", kind=kind, requested_by="alex", created_at=NOW,
                          status=RequestStatus.PREPARED, package_id="pkg")


@pytest.mark.parametrize("value", ["2611290010001234", " 1234 ", "SR-7788", "a1b2", "x" * 39 + "1"])
def test_numbers_partner_center_gives_are_accepted_trimmed(value: str) -> None:
    assert rules.validate_request_number(value) == value.strip()


@pytest.mark.parametrize("value", ["", "123", "abcd", "12 34", "-1234", "1234-", "x" * 40 + "1", "１２３４",
                                   "12<b>34", "1234\n5678"])
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        rules.validate_request_number(value)
    assert refused.value.code == errors.INVALID_REQUEST_NUMBER and refused.value.params == {"max": 40}


def test_stages_and_outcomes() -> None:
    prepared = _request()
    assert rules.service_request_stage(prepared) is RequestStatus.PREPARED
    assert rules.allowed_outcomes(prepared) == (RequestOutcome.WITHDRAWN,)
    submitted = replace(prepared, status=RequestStatus.SUBMITTED, partner_center_number="1234")
    assert rules.service_request_stage(submitted) is RequestStatus.SUBMITTED
    assert rules.allowed_outcomes(submitted) == (RequestOutcome.CANCELLED, RequestOutcome.NOT_CANCELLED)
    assert rules.allowed_outcomes(replace(submitted, kind=RequestKind.ASSISTANCE)) == (
        RequestOutcome.COMPLETED, RequestOutcome.WITHDRAWN)
    with pytest.raises(RuleViolation) as again:
        rules.require_request_prepared(submitted)
    assert again.value.params == {"number": "1234"}
    closed = replace(submitted, status=RequestStatus.CLOSED)
    assert rules.allowed_outcomes(closed) == ()
    with pytest.raises(RuleViolation) as late:
        rules.require_outcome_allowed(closed, "cancelled")
    assert late.value.code == errors.REQUEST_CLOSED
    # a request recorded by an older version as submitted without any number is still only prepared
    assert rules.service_request_stage(replace(prepared, status=RequestStatus.SUBMITTED)) is RequestStatus.PREPARED


def test_the_seeds_form_for_assistance_and_the_benefits_page_for_a_cancellation() -> None:
    assert rules.service_request_form(_request(RequestKind.ASSISTANCE)) == (
        "https://partnercenter.microsoft.com/pcv/partnership/benefits/createadvisoryhoursservicerequest")
    assert rules.service_request_form(_request()) == "https://partnercenter.microsoft.com/pcv/partnership/benefits"
