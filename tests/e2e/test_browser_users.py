"""Users and permissions in headless Chromium: the buttons a person clicks send what they should.

Save roles once sent nothing: the same card's add-a-user form had required inputs, and the
renderer validates every input of a card for a button (Adaptive Cards ``associatedInputs: auto``).
Each person's roles and the add-a-user form are now separate forms; these journeys click them as a
person does, and check what the bot stored.
"""

from __future__ import annotations

import pytest

from tests.e2e import disk
from tests.e2e.journey import CARDS, Journey
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


#: seconds per step: these journeys wait on the bot's answers while other browsers may share the machine
JOURNEY_TIMEOUT = 45.0

LEE_ID = "00000000-0000-0000-0000-0000000000a3"


def roles_of(stack: Stack, person_id: str) -> list[str]:
    [person] = disk.stored(stack.data_dir, "people", id=person_id)
    return sorted(person["roles"])


async def test_save_roles_sends_the_ticked_roles_and_they_are_stored(journey: Journey, stack: Stack) -> None:
    await journey.open()
    await journey.say("users")
    await journey.expect_card("Users and permissions", step="users card")
    await journey.click("Change roles of Lee Gu")
    await journey.p.locator(CARDS).last.get_by_role("checkbox", name="User admin").check()
    await journey.screenshot("user admin ticked for Lee")
    await journey.click("Save roles of Lee Gu")
    await journey.expect_card("Roles of Lee Gu: User admin", step="roles saved")
    assert roles_of(stack, LEE_ID) == ["user_admin"]
    assert await journey.p.get_by_text("Enter the person's name.").count() == 0  # no other form blocked it

    # removing the role asks first; keeping it changes nothing, confirming removes it
    await journey.click("Change roles of Lee Gu")
    await journey.p.locator(CARDS).last.get_by_role("checkbox", name="User admin").uncheck()
    await journey.click("Save roles of Lee Gu")
    await journey.expect_card("Remove roles from Lee Gu?", step="asked to confirm")
    assert roles_of(stack, LEE_ID) == ["user_admin"]
    await journey.click("Remove the roles")
    await journey.expect_card("Roles of Lee Gu: Employee", step="role removed")
    assert roles_of(stack, LEE_ID) == []


async def test_recent_changes_of_a_person_opens_and_leads_back(journey: Journey) -> None:
    await journey.open()
    await journey.say("users")
    await journey.expect_card("Users and permissions")
    await journey.click("Recent changes for Lee Gu")
    await journey.expect_card("Recent changes: Lee Gu", step="recent changes")
    await journey.click("Back")
    await journey.expect_card("Users and permissions", step="back to users")
    await journey.click("Menu")
    await journey.expect_card("What I can do for you", step="menu")
