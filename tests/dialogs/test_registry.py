"""The app's workflows: the menu, the phrase table, the sign-in gate, the shared-chat verbs and the
refusals about who acts are derived from what each workflow module declares, per app."""

from __future__ import annotations

from typing import Any

import pytest

from dialogs import registry
from dialogs.actions import ADMINS, GLOBAL_ADMINS, ActionResult, Menu, Phrases, Workflow, action, declared
from dialogs.registry import Workflows
from dialogs.turn import Turn
from domain import errors
from domain.models import Person, Role

ADMIN = Person(id="a", name="Ada", email="ada@contoso.com", roles=frozenset({Role.GLOBAL_ADMIN}))
USER_ADMIN = Person(id="u", name="Uma", email="uma@contoso.com", roles=frozenset({Role.USER_ADMIN}))
EMPLOYEE = Person(id="e", name="Eve", email="eve@contoso.com")


async def _nothing(turn: Turn, data: dict[str, Any]) -> ActionResult:
    return ActionResult()


def test_the_tables_come_from_the_declarations() -> None:
    workflows = Workflows.load()
    assert workflows.fresh_sign_in == {"reveal_keys", "set_roles"}
    assert workflows.shared == {"help", "language", "set_language"}
    assert workflows.role_refusals == {errors.NOT_AN_ADMIN, errors.NEEDS_GLOBAL_ADMIN, errors.NEEDS_GTM_ROLE}
    keys = [e.key for e in workflows.menu]
    assert keys[:3] == ["menu.my_benefits", "menu.request_benefit", "menu.overview"] and keys[-1] == "menu.language"
    assert all(workflows.get(e.action) is not None for e in workflows.menu)
    assert workflows.commands.parse("軟體") is not None and workflows.commands.parse("軟體").action == "list_software"


def test_the_menu_holds_what_the_person_may_run() -> None:
    workflows = Workflows.load()
    everyone = {e.action for e in workflows.menu_for(EMPLOYEE)}
    assert everyone == {"my_benefits", "request_benefit", "language"}
    admin = {e.action for e in workflows.menu_for(ADMIN)}
    assert {"users", "cancel_start", "overview"} <= admin
    assert "users" not in {e.action for e in workflows.menu_for(USER_ADMIN)}


def test_a_new_workflow_is_one_declaration() -> None:
    @action("tidy_up", roles=ADMINS, menu=Menu("menu.overview", 35), fresh_sign_in=True,
            phrases=Phrases(en_US=("tidy up",), zh_CN=("整理",), zh_TW=("整理一下",)))
    async def tidy_up(turn: Turn, data: dict[str, Any]) -> ActionResult:
        return ActionResult()

    workflow = declared(tidy_up)
    assert workflow is not None
    workflows = Workflows.load()
    workflows.add(workflow)
    assert [e.action for e in workflows.menu].index("tidy_up") == 3  # between overview (30) and software (40)
    assert "tidy_up" in workflows.fresh_sign_in and workflows.may(USER_ADMIN, "tidy_up")
    assert not workflows.may(EMPLOYEE, "tidy_up")
    assert workflows.commands.parse("整理一下").action == "tidy_up"  # type: ignore[union-attr]
    assert "tidy_up" not in Workflows.load()  # nothing registered at import: each app builds its own


def test_the_server_check_refuses_with_the_declared_refusal() -> None:
    from domain.errors import RuleViolation

    workflows = Workflows([Workflow("grant", _nothing, roles=GLOBAL_ADMINS)])
    workflows.require(ADMIN, "grant")
    with pytest.raises(RuleViolation) as refused:
        workflows.require(USER_ADMIN, "grant")
    assert refused.value.code == errors.NEEDS_GLOBAL_ADMIN and workflows.is_role_refusal(refused.value.code)
    assert not workflows.may(ADMIN, "unknown")


def test_the_verbs_a_person_may_run_follow_their_roles_and_the_declarations() -> None:
    workflows = Workflows.load()
    employee = Person(id="p", name="Pat", email="pat@contoso.com")
    before = workflows.allowed_verbs(employee)
    assert "overview" not in before and workflows.allowed_verbs(employee) is before  # asked once per person
    promoted = Person(id="p", name="Pat", email="pat@contoso.com", roles=frozenset({Role.GLOBAL_ADMIN}))
    assert "overview" in workflows.allowed_verbs(promoted)  # a changed person is a new object: asked again
    assert "overview" not in workflows.allowed_verbs(employee)
    wave = declared(action("wave", roles=ADMINS)(_nothing))
    assert wave is not None
    workflows.add(wave)
    assert "wave" in workflows.allowed_verbs(promoted) and "wave" not in workflows.allowed_verbs(employee)
    workflows.remove("overview")
    assert "overview" not in workflows.allowed_verbs(promoted)


def test_the_memory_of_allowed_verbs_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "MAX_PEOPLE_REMEMBERED", 4)
    workflows = Workflows.load()
    people = [Person(id=f"p{n}", name="Pat", email="pat@contoso.com") for n in range(10)]
    for person in people:
        assert "overview" not in workflows.allowed_verbs(person)
        assert len(workflows._allowed) <= 4
