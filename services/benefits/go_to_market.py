"""Go-to-market: the marketing contact and the activation of offers."""

from __future__ import annotations

from dataclasses import replace

from domain import rules
from domain.models import Benefit, MarketingContact, Person, Status
from services.benefits.core import ServiceCore


class GoToMarket(ServiceCore):
    """The go-to-market benefits' contact and offers."""

    async def set_marketing_contact(self, actor: Person, person_id: str, alternate_email: str, phone: str,
                                    preferred_language: str, op_key: str | None = None) -> MarketingContact:
        """Seed: user, alternate email (not the account email), contact phone, preferred language.
        Emits ``marketing_contact.set`` with the contact it replaced (again on a replay)."""
        contact, before = await self._set_marketing_contact(actor, person_id, alternate_email, phone,
                                                            preferred_language, op_key)
        await self._emit("marketing_contact.set", {"contact": contact, "before": before})
        return contact

    async def _set_marketing_contact(self, actor: Person, person_id: str, alternate_email: str, phone: str,
                                     preferred_language: str, op_key: str | None
                                     ) -> tuple[MarketingContact, MarketingContact | None]:
        rules.require_can_manage_go_to_market(actor)
        async with self._lock:
            done = self._processed(op_key)
            replayed = self._replayed(op_key, "contact", MarketingContact.from_doc)
            if replayed is not None:
                previous = done.get("before") if done else None
                return replayed, MarketingContact.from_doc(previous) if previous else None
            person = self._person(person_id)
            contact = MarketingContact(
                person_id=person.id,
                alternate_email=rules.validate_alternate_email(alternate_email, person, self._account_email()),
                phone=rules.validate_phone(phone),
                preferred_language=rules.validate_text(preferred_language, "preferred_language", 40),
                set_by=actor.id, set_at=self.clock(),
            )
            before = self.repo.marketing_contact()
            await self._commit([self.repo.put_marketing_contact(contact),
                                self._audit(actor, "marketing_contact.set", "marketing_contact", before, contact)],
                               op_key, {"contact": contact.to_doc(), "before": before.to_doc() if before else None})
            return contact, before

    async def request_offer_activation(self, actor: Person, benefit_id: str, op_key: str | None = None) -> Benefit:
        """Seed: *Activate* an offer once a marketing contact exists; it goes to pending."""
        rules.require_can_manage_go_to_market(actor)
        async with self._lock:
            replayed = self._replayed(op_key, "benefit_id", self.repo.benefit)
            if replayed is not None:
                return replayed
            benefit = self._benefit(benefit_id)
            rules.require_marketing_contact(self.repo.marketing_contact())
            rules.require_can_request_offer_activation(benefit)
            after = replace(benefit, status=Status.PENDING_ACTIVATION)
            await self._commit([self.repo.put_benefit(after),
                                self._audit(actor, "offer.activation_requested", benefit.id,
                                            benefit, after)], op_key, {"benefit_id": after.id})
            return after
