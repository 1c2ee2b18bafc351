"""The app's workflows: every verb's declaration, and the tables derived from them.

The app builds one :class:`Workflows` at start (``Workflows.load()`` reads the declarations of every
module of ``dialogs``) and hands it to the bot, which hands it to each turn. The phrase table of the
text commands, the menu, the verbs that need a fresh sign-in, the verbs whose answer may be shown
in a shared chat and the refusals about who acts are all derived from the declarations here, so
they cannot disagree with the handlers they describe.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from dataclasses import replace
from types import ModuleType
from typing import Any

from cards.help import MenuEntry
from dialogs.actions import ANYONE, ActionHandler, Workflow, declared
from dialogs.commands import PhraseTable
from domain.errors import RuleViolation
from domain.memo import BoundedMemo
from domain.models import Person

#: people whose allowed verbs are remembered; past it the memory starts over
MAX_PEOPLE_REMEMBERED = 4096


class Workflows:
    """The declared verbs of one app, and what is derived from them."""

    def __init__(self, declarations: Iterable[Workflow]) -> None:
        self._declared: dict[str, Workflow] = {}
        for workflow in declarations:
            self._add(workflow)
        self._derive()

    @classmethod
    def load(cls, package: str = "dialogs") -> Workflows:
        """Every declaration found in the modules of ``package`` (a handler imported into another
        module is the same declaration, found once)."""
        root = importlib.import_module(package)
        modules = [importlib.import_module(f"{package}.{info.name}")
                   for info in pkgutil.iter_modules(root.__path__)]
        return cls(_declarations(modules))

    # --- building ------------------------------------------------------------------------------
    def _add(self, workflow: Workflow) -> None:
        if self._declared.get(workflow.verb, workflow) is not workflow:
            raise ValueError(f"verb {workflow.verb!r} declared twice")
        self._declared[workflow.verb] = workflow

    def _derive(self) -> None:
        everything = list(self._declared.values())
        #: id(person) -> (person, the verbs they may run); kept here, the person cannot be freed and
        #: its id reused. A person is immutable and the role rules are functions of the person alone.
        self._allowed: BoundedMemo[int, tuple[Person, frozenset[str]]] = BoundedMemo(MAX_PEOPLE_REMEMBERED)
        self.commands = PhraseTable({w.verb: w.phrases.all() for w in everything if w.phrases.all()})
        placed = sorted((w.menu.order, w.verb, w.menu.key) for w in everything if w.menu is not None)
        self.menu = tuple(MenuEntry(verb, key) for _, verb, key in placed)
        self._fresh_sign_in = frozenset(w.verb for w in everything if w.fresh_sign_in)
        self.shared = frozenset(w.verb for w in everything if w.shared)
        self.personal_only = frozenset(w.verb for w in everything if w.personal_only)
        #: refusals about *who* acts (not about what was asked): answered naming the admins
        self.role_refusals = frozenset(w.roles.refusal for w in everything if w.roles.refusal)

    def add(self, workflow: Workflow) -> None:
        """Declare one more verb (a plug-in, or a test's stand-in)."""
        self._add(workflow)
        self._derive()

    def replace_handler(self, verb: str, handler: ActionHandler) -> ActionHandler:
        """Serve ``verb`` with ``handler`` from now on, its declaration otherwise kept; the old handler."""
        old = self._declared[verb]
        self._declared[verb] = replace(old, handler=handler)
        self._derive()
        return old.handler

    def remove(self, verb: str) -> None:
        del self._declared[verb]
        self._derive()

    # --- reading -------------------------------------------------------------------------------
    def __contains__(self, verb: object) -> bool:
        return verb in self._declared

    def __iter__(self) -> Any:
        return iter(self._declared)

    def get(self, verb: str) -> Workflow | None:
        return self._declared.get(verb)

    @property
    def fresh_sign_in(self) -> frozenset[str]:
        """The verbs that need a fresh SSO sign-in (when SSO is configured)."""
        return self._fresh_sign_in

    def may(self, person: Person, verb: str) -> bool:
        """Whether ``person`` may run ``verb`` (an unknown verb: no)."""
        workflow = self._declared.get(verb)
        return workflow is not None and workflow.roles.allows(person)

    def allowed_verbs(self, person: Person) -> frozenset[str]:
        """The verbs ``person`` may run: what a card may offer them (cards take this as data).

        Worked out once per person object (the store hands out the same object until the person
        changes): asking every verb's rule on every turn that shows a card was a measurable share of
        the turn.
        """
        found = self._allowed.get(id(person))
        if found is not None and found[0] is person:
            return found[1]
        verbs = frozenset(verb for verb, w in self._declared.items() if w.roles.allows(person))
        self._allowed.remember(id(person), (person, verbs))
        return verbs

    def require(self, person: Person, verb: str) -> None:
        """The server's check of a verb's declared roles, before its handler runs."""
        workflow = self._declared.get(verb)
        who = workflow.roles if workflow is not None else ANYONE
        if not who.allows(person):
            raise RuleViolation(who.refusal)

    def hint_key(self, verb: str) -> str:
        """The catalog key of the phrase that starts ``verb``, said in the person's language."""
        workflow = self._declared.get(verb)
        return (workflow.phrases.hint if workflow is not None else "") or f"commands.{verb}"

    def is_role_refusal(self, code: str) -> bool:
        return code in self.role_refusals

    def menu_for(self, person: Person) -> list[MenuEntry]:
        """The menu's entries ``person`` may run (hiding one is a courtesy; the server checks)."""
        return [entry for entry in self.menu if self.may(person, entry.action)]

    def inputs_read(self, verb: str, data: dict[str, Any]) -> frozenset[str]:
        """The input ids ``verb`` reads when its button carries ``data``."""
        workflow = self._declared.get(verb)
        declared_inputs = workflow.inputs if workflow is not None else ()
        patterns = declared_inputs if isinstance(declared_inputs, tuple) else tuple(declared_inputs(data))
        out = set()
        for pattern in patterns:
            try:
                out.add(pattern.format(**{k: v for k, v in data.items() if isinstance(k, str)}))
            except (KeyError, IndexError, ValueError):
                continue
        return frozenset(out)


def _declarations(modules: Iterable[ModuleType]) -> list[Workflow]:
    seen: dict[int, Workflow] = {}
    for module in modules:
        for value in vars(module).values():
            workflow = declared(value)
            if workflow is not None:
                seen.setdefault(id(workflow), workflow)
    return list(seen.values())
