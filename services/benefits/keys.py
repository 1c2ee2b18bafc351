"""Software and licence keys: revealing them, which counts as activation."""

from __future__ import annotations

import uuid
from dataclasses import replace

from domain import rules
from domain.models import KeyReveal, Person, ProductKey, Status
from services.benefits.core import ServiceCore


class Keys(ServiceCore):
    """The keys of software benefits."""

    async def reveal_keys(self, actor: Person, benefit_id: str, language: str, os_type: str,
                          op_key: str | None = None) -> list[ProductKey]:
        """Seed: *Get keys* after choosing the language and OS. Recorded; counts as activation."""
        rules.require_can_reveal_keys(actor)
        async with self._lock:
            benefit = self._benefit(benefit_id)
            rules.require_keys_benefit(benefit)
            rules.require_not_cancelled(benefit)
            replayed = self._replayed(op_key, "reveal", lambda done: [
                k for k in benefit.keys if k.language == done.get("language") and k.os == done.get("os")])
            if replayed is not None:
                return replayed
            keys = [k for k in benefit.keys if k.language == language and k.os == os_type]
            now = self.clock()
            reveal = KeyReveal(uuid.uuid4().hex, benefit.id, actor.id, now, language, os_type)
            ops = [self.repo.put_reveal(reveal)]
            if benefit.status is Status.NOT_ACTIVATED:
                after = replace(benefit, status=Status.ACTIVE, activated_on=now.date())
                ops += [self.repo.put_benefit(after), self._audit(actor, "benefit.activated_by_key", benefit.id,
                                                                  benefit, after)]
            ops.append(self._audit(actor, "keys.revealed", benefit.id, None, None, language=language, os=os_type))
            await self._commit(ops, op_key, {"reveal": {"language": language, "os": os_type}})
            return keys
