"""The seam for the notifications outbox: ``BenefitsService.listeners`` hear ``request.submitted`` and
``request.decided`` once per real change, and a failing listener never undoes the change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.benefits import BenefitsService
from services.inventory import demo_inventory, import_inventory, parse_inventory
from services.repository import INDEXES
from services.storage import open_store

LEE = "00000000-0000-0000-0000-0000000000a3"
ALEX = "00000000-0000-0000-0000-0000000000a1"


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[BenefitsService]:
    store = open_store(tmp_path / "benefits.json", INDEXES)
    await import_inventory(store, parse_inventory(demo_inventory(date.today())))
    yield BenefitsService(store)
    await store.close()


async def test_listeners_hear_submitted_and_decided_once(service: BenefitsService) -> None:
    events: list[tuple[str, dict[str, Any]]] = []

    async def async_listener(name: str, payload: dict[str, Any]) -> None:
        events.append((name, payload))

    def broken(name: str, payload: dict[str, Any]) -> None:
        raise RuntimeError("outbox down")

    service.listeners += [broken, async_listener]
    lee, alex = service.repo.person(LEE), service.repo.person(ALEX)
    assert lee is not None and alex is not None
    request = await service.request_benefit(lee, "vs-enterprise", "please", op_key="click:1")
    again = await service.request_benefit(lee, "vs-enterprise", "please", op_key="click:1")
    assert again.id == request.id
    assert [e[0] for e in events] == ["request.submitted"]
    assert events[0][1]["reference"] == request.reference and events[0][1]["requester_id"] == LEE
    decided, assignment = await service.decide_request(alex, request.id, approve=True)
    assert assignment is not None and service.repo.request(request.id).status.value == "approved"
    name, payload = events[-1]
    assert name == "request.decided" and payload["outcome"] == "approved" and payload["decider_id"] == ALEX
    assert payload["assignment_id"] == assignment.id and payload["benefit"] == "Visual Studio Enterprise subscription"
