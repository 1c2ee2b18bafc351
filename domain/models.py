"""The partner organization's MPN membership benefits, as the seed documents describe them.

Plain frozen dataclasses and enums: no I/O, no framework. Conversion to and from JSON documents
(``to_doc`` / ``from_doc``) exists only for the storage boundary; dates travel as ISO strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from types import UnionType
from typing import Any, ClassVar, Self, Union, get_args, get_origin, get_type_hints


class Role(StrEnum):
    """Partner Center roles that matter on the Benefits page (seed: "Appropriate roles")."""

    GLOBAL_ADMIN = "global_admin"
    USER_ADMIN = "user_admin"
    ADMIN_AGENT = "admin_agent"
    MPN_PARTNER_ADMIN = "mpn_partner_admin"


class Category(StrEnum):
    """The five lists of the Benefits page, in the order Partner Center shows them."""

    SOFTWARE = "software"
    CLOUD = "cloud"
    VISUAL_STUDIO = "visual_studio"
    TECHNICAL = "technical"
    GO_TO_MARKET = "go_to_market"


class BenefitKind(StrEnum):
    """What a benefit is within its category; decides how it is activated."""

    SOFTWARE = "software"
    CLOUD_USAGE_BASED = "cloud_usage_based"
    CLOUD_LICENSE_BASED = "cloud_license_based"
    VISUAL_STUDIO = "visual_studio"
    SUPPORT_INCIDENTS = "support_incidents"
    ADVISORY_HOURS = "advisory_hours"
    PRESALES = "presales"
    DEPLOYMENT = "deployment"
    GO_TO_MARKET_OFFER = "go_to_market_offer"


CATEGORY_OF_KIND: dict[BenefitKind, Category] = {
    BenefitKind.SOFTWARE: Category.SOFTWARE,
    BenefitKind.CLOUD_USAGE_BASED: Category.CLOUD,
    BenefitKind.CLOUD_LICENSE_BASED: Category.CLOUD,
    BenefitKind.VISUAL_STUDIO: Category.VISUAL_STUDIO,
    BenefitKind.SUPPORT_INCIDENTS: Category.TECHNICAL,
    BenefitKind.ADVISORY_HOURS: Category.TECHNICAL,
    BenefitKind.PRESALES: Category.TECHNICAL,
    BenefitKind.DEPLOYMENT: Category.TECHNICAL,
    BenefitKind.GO_TO_MARKET_OFFER: Category.GO_TO_MARKET,
}


class Unit(StrEnum):
    """What a benefit's quantity counts; quantities of different units are never added up."""

    LICENSE = "license"
    SUBSCRIPTION = "subscription"
    INCIDENT = "incident"
    HOUR = "hour"
    SERVICE = "service"
    OFFER = "offer"


UNIT_OF_KIND: dict[BenefitKind, Unit] = {
    BenefitKind.SOFTWARE: Unit.LICENSE,
    BenefitKind.CLOUD_USAGE_BASED: Unit.SUBSCRIPTION,
    BenefitKind.CLOUD_LICENSE_BASED: Unit.LICENSE,
    BenefitKind.VISUAL_STUDIO: Unit.SUBSCRIPTION,
    BenefitKind.SUPPORT_INCIDENTS: Unit.INCIDENT,
    BenefitKind.ADVISORY_HOURS: Unit.HOUR,
    BenefitKind.PRESALES: Unit.SERVICE,
    BenefitKind.DEPLOYMENT: Unit.SERVICE,
    BenefitKind.GO_TO_MARKET_OFFER: Unit.OFFER,
}


class Status(StrEnum):
    """Activation state of a benefit or of one assignment of it."""

    NOT_ACTIVATED = "not_activated"
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class RequestKind(StrEnum):
    """Requests the bot tracks. Assistance and cancellation are Partner Center service requests, which
    only an admin can file (in Partner Center's form); the bot prepares and follows them."""

    ASSISTANCE = "assistance"  # advisory hours / technical presales (seed: "Submit request")
    CANCELLATION = "cancellation"  # refund of a benefit package (seed: "through a service request")
    BENEFIT = "benefit"  # an employee asks the admins for a benefit


class RequestStatus(StrEnum):
    """An employee's request: submitted, then approved or declined. A Partner Center service
    request: prepared (details ready), submitted (with Partner Center's number), closed."""

    PREPARED = "prepared"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DECLINED = "declined"
    CLOSED = "closed"


class RequestOutcome(StrEnum):
    """How a Partner Center service request ended, as the admin recorded it."""

    WITHDRAWN = "withdrawn"  # never filed, or given up
    COMPLETED = "completed"  # assistance given
    CANCELLED = "cancelled"  # Microsoft cancelled the package
    NOT_CANCELLED = "not_cancelled"  # Microsoft did not cancel it


class Phase(StrEnum):
    """Phases in which technical assistance may be requested (seed, technical benefits step 4)."""

    PRESALES = "presales"
    DESIGN = "design"
    DEPLOYMENT = "deployment"
    APP_DEVELOPMENT = "app_development"


class _Doc:
    """Mixin: JSON documents at the storage boundary, enums and dates as strings."""

    def to_doc(self) -> dict[str, Any]:
        """Each field encoded, which copies what it holds (not ``asdict``, whose deep copy of every field
        before it is encoded was most of the cost of writing a document)."""
        names = _FIELD_NAMES.get(type(self))
        if names is None:  # every _Doc is a dataclass; the mixin itself is not
            names = _FIELD_NAMES[type(self)] = tuple(f.name for f in fields(self))  # type: ignore[arg-type]
        return {name: _encode(getattr(self, name)) for name in names}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self:
        model: type = cls
        hints = _hints(model)
        kwargs = {}
        for f in fields(cls):  # type: ignore[arg-type]  # as above: cls is a dataclass
            if f.name in doc:
                kwargs[f.name] = _decode(hints[f.name], doc[f.name])
        return cls(**kwargs)


#: the fields of each model class, by name (``fields`` builds them anew each call)
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@cache
def _hints(cls: type) -> dict[str, Any]:
    """Type hints of a model class, resolved once (``get_type_hints`` compiles annotations each call)."""
    return get_type_hints(cls)


def _encode(value: Any) -> Any:
    if isinstance(value, (str, int, float)) or value is None:  # (enums are str; bool is int)
        return value
    if isinstance(value, _Doc):
        return value.to_doc()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (frozenset, set, tuple)):
        return sorted(_encode(v) for v in value) if isinstance(value, (frozenset, set)) else [
            _encode(v) for v in value
        ]
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(hint: Any, value: Any) -> Any:
    """Rebuild a field from JSON by its type hint (``X | None``, tuples and frozensets of X, enums)."""
    if value is None:
        return None
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType):
        inner = [a for a in args if a is not type(None)]
        return _decode(inner[0], value) if len(inner) == 1 else value
    if origin in (tuple, frozenset, list):
        item = args[0] if args else Any
        items = [_decode(item, v) for v in value]
        return origin(items)
    if isinstance(hint, type):
        if hint is datetime:
            return datetime.fromisoformat(value)
        if hint is date:
            return date.fromisoformat(value)
        if issubclass(hint, StrEnum):
            return hint(value)
        if issubclass(hint, _Doc) and isinstance(value, dict):
            return hint.from_doc(value)
    return value


@dataclass(frozen=True)
class Organization(_Doc):
    """The partner organization; ``account_email`` is its Partner Center account email."""

    id: str
    name: str
    account_email: str
    mpn_id: str = ""
    #: partner level (e.g. "Gold"); decides which go-to-market offers exist
    partner_level: str = ""


#: a person's ids that are left out of the stored document while unknown (see :meth:`Person.to_doc`)
UNKNOWN_IDS_LEFT_OUT = ("aad_object_id", "teams_id")


@dataclass(frozen=True)
class Person(_Doc):
    """Someone in the organization's directory. ``email`` is the company account email."""

    id: str
    name: str
    email: str
    roles: frozenset[Role] = frozenset()
    #: Entra object id and Teams user id, when known (Teams ids look like ``29:...``)
    aad_object_id: str = ""
    teams_id: str = ""
    locale: str = ""
    #: IANA time zone of the person's Teams client (``Asia/Shanghai``), for dates shown to them
    timezone: str = ""
    #: Global admin only because Entra lists them as a Global Administrator (Partner Center's rule):
    #: taken back when Entra no longer does. Roles granted in the bot are never taken back by Entra.
    admin_from_directory: bool = False

    def has(self, role: Role) -> bool:
        return role in self.roles

    def to_doc(self) -> dict[str, Any]:
        """The person's document, without the ids not known yet: most of a large directory never opened
        Teams, and a stored empty id would put every such person under ``""`` in the store's indexes of
        these ids (two sets of the whole directory, which every start reads)."""
        doc = super().to_doc()
        for name in UNKNOWN_IDS_LEFT_OUT:
            if not doc[name]:
                del doc[name]
        return doc


@dataclass(frozen=True)
class BenefitPackage(_Doc):
    """A purchased membership benefit package (e.g. Action Pack, Silver/Gold competency)."""

    id: str
    name: str
    purchased_on: date
    source_program: str
    expires_on: date | None = None
    status: Status = Status.ACTIVE
    purchased_by: str = ""
    #: per-locale wording from the inventory: ``{"name": {"zh-CN": ...}, "source_program": {...}}``
    i18n: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class DownloadLink(_Doc):
    """An installation package of a software product for one language and OS type."""

    language: str
    os: str
    url: str
    label: str = ""
    #: per-locale labels: ``{"label": {"zh-CN": ...}}``
    i18n: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ProductKey(_Doc):
    """A product license key. Secret: never logged, shown only to admins who ask for it."""

    id: str
    language: str
    os: str
    key: str = field(repr=False)


@dataclass(frozen=True)
class Benefit(_Doc):
    """One benefit of a package, with its allocation (``quantity`` seats or units)."""

    id: str
    package_id: str
    kind: BenefitKind
    name: str
    quantity: int = 1
    status: Status = Status.NOT_ACTIVATED
    activated_on: date | None = None
    expires_on: date | None = None
    #: last day by which the benefit must be activated (cloud benefits show it)
    activate_by: date | None = None
    description: str = ""
    special_instructions: str = ""
    portal_url: str = ""
    #: secret: never in a repr (a refusal or a log line that shows the benefit must not show its keys)
    keys: tuple[ProductKey, ...] = field(default=(), repr=False)
    downloads: tuple[DownloadLink, ...] = ()
    #: go-to-market offer type shown below the benefit name (e.g. "Silver Core")
    offer_type: str = ""
    #: when every seat became assigned (Visual Studio's 90-day reassignment lock starts then)
    fully_assigned_on: date | None = None

    #: per-locale wording from the inventory: ``{"name": {"zh-CN": ...}, "offer_type": {...}}``
    i18n: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)

    @property
    def category(self) -> Category:
        return CATEGORY_OF_KIND[self.kind]

    @property
    def unit(self) -> Unit:
        return UNIT_OF_KIND[self.kind]


@dataclass(frozen=True)
class Assignment(_Doc):
    """A benefit assigned to a person (one seat)."""

    id: str
    benefit_id: str
    person_id: str
    assigned_by: str
    assigned_at: datetime
    status: Status = Status.PENDING_ACTIVATION
    alternate_email: str = ""
    activated_on: date | None = None
    expires_on: date | None = None
    removed_at: datetime | None = None
    removed_by: str = ""

    @property
    def is_current(self) -> bool:
        return self.removed_at is None and self.status is not Status.CANCELLED


@dataclass(frozen=True)
class KeyReveal(_Doc):
    """Who revealed which product key, when: revealing a key counts as using the benefit."""

    id: str
    benefit_id: str
    person_id: str
    at: datetime
    language: str = ""
    os: str = ""


@dataclass(frozen=True)
class MarketingContact(_Doc):
    """The company marketing contact that go-to-market offers require."""

    person_id: str
    alternate_email: str
    phone: str
    preferred_language: str
    set_by: str
    set_at: datetime


@dataclass(frozen=True)
class ServiceRequest(_Doc):
    """A request the bot tracks: an employee's benefit request (``reference`` is the bot's own), or a
    Partner Center service request (no ``reference``: its only number is the one Partner Center gave,
    ``partner_center_number``, recorded by the admin who filed it)."""

    id: str
    reference: str
    kind: RequestKind
    requested_by: str
    created_at: datetime
    status: RequestStatus = RequestStatus.SUBMITTED
    benefit_id: str = ""
    package_id: str = ""
    phase: Phase | None = None
    topic: str = ""
    description: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None
    partner_center_number: str = ""
    submitted_by: str = ""
    submitted_at: datetime | None = None
    closed_by: str = ""
    closed_at: datetime | None = None
    outcome: RequestOutcome | None = None


@dataclass(frozen=True)
class AuditEntry(_Doc):
    """One change: who did what to which record, with the state before and after."""

    id: str
    at: datetime
    actor_id: str
    action: str
    subject_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    #: the language and OS type of the keys revealed (``keys.revealed``)
    language: str = ""
    os: str = ""
    #: where a change no person made came from (``entra``)
    source: str = ""

    #: the details an entry may carry besides before and after, in the order they are shown
    DETAILS: ClassVar[tuple[str, ...]] = ("language", "os", "source")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self:
        legacy = doc.get("extra")
        if isinstance(legacy, dict):  # written when the details were a free-form dict: lift the known ones
            doc = {**{k: str(v) for k, v in legacy.items() if k in cls.DETAILS and v}, **doc}
        return super().from_doc(doc)
