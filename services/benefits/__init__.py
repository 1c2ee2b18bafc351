"""Benefit workflows as transactions: read, check the seeds' rules, write one atomic batch.

``BenefitsService`` is every area of the Benefits page in one object: each area is its own module
(a subclass of ``core.ServiceCore``, which holds the store, the lock, the audit trail and replays),
and this class only composes them, so callers need one service and each area reads on its own.
"""

from __future__ import annotations

from services.benefits.activation import Activation, Activations
from services.benefits.core import Clock, ServiceCore, utc_now
from services.benefits.go_to_market import GoToMarket
from services.benefits.keys import Keys
from services.benefits.people import People
from services.benefits.reading import CategorySummary, Holding, Reading
from services.benefits.service_requests import Requests

__all__ = ["Activation", "BenefitsService", "CategorySummary", "Clock", "Holding", "ServiceCore", "utc_now"]


class BenefitsService(Reading, Keys, Requests, GoToMarket, Activations, People):
    """The application service of the Benefits page (``Requests`` brings ``Assignments``: approving assigns)."""
