"""Import and export of the organization's benefit inventory (JSON), and the Contoso demo data.

The inventory file is what an admin exports from Partner Center and edits: the organization, its
people with their roles, and its benefit packages with their benefits, keys and download links.
Names, descriptions, special instructions, offer types, source programs and download labels may
be given per locale: either ``"name": {"en-US": ..., "zh-CN": ..., "zh-TW": ...}`` or a plain
``"name"`` with ``"name_i18n": {"zh-CN": ...}`` beside it (a plain string alone is the old format
and still reads). The en-US text (else the plain one) is the record's own; the others go to its
``i18n``. A malformed file is refused as a whole, naming the line (for JSON syntax) or the field path
(``packages[0].benefits[2].kind``) at fault, and the record it is in; nothing is written unless everything
is valid. A file is read a record at a time (:func:`read_inventory`), so an organization of any size
is checked and written in bounded memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, overload

from domain.models import (
    Benefit,
    BenefitKind,
    BenefitPackage,
    DownloadLink,
    Organization,
    Person,
    ProductKey,
    Role,
    Status,
)
from domain.rules import validate_email
from services.i18n import DEFAULT_LOCALE, LOCALES
from services.json_input import JsonInputError, Member, Readable, load_json, stream_object
from services.repository import Repository
from services.storage.base import DocumentStore, Op


class InventoryError(JsonInputError):
    """The file is refused; ``where`` is ``line N, column M`` or a field path."""


@dataclass(frozen=True)
class Inventory:
    organization: Organization
    people: list[Person]
    packages: list[BenefitPackage]
    benefits: list[Benefit]


def parse_inventory_text(text: str | bytes) -> Inventory:
    """Parse and validate an inventory file (see :func:`services.json_input.load_json` for what is refused
    before the fields are looked at)."""
    try:
        raw = load_json(text)
    except JsonInputError as exc:
        raise InventoryError(exc.where, exc.problem) from None
    return parse_inventory(raw)


def parse_inventory(raw: Any) -> Inventory:
    """Validate every field, collecting the first problem with its path."""
    obj = _obj(raw, "$")
    organization = _organization(obj.get("organization"))
    ids = _Ids()
    people = [_person(p, f"people[{i}]", ids) for i, p in enumerate(_list(obj.get("people", []), "people"))]
    packages: list[BenefitPackage] = []
    benefits: list[Benefit] = []
    for i, pk in enumerate(_list(obj.get("packages"), "packages")):
        record = _package(pk, f"packages[{i}]", ids)
        packages.append(record.package)
        benefits.extend(record.benefits)
    return Inventory(organization, people, packages, benefits)


@dataclass(frozen=True)
class PackageRecord:
    """A package as the file gives it: with its benefits."""

    package: BenefitPackage
    benefits: list[Benefit]


InventoryRecord = Organization | Person | PackageRecord

#: the lists of an inventory file that are read a record at a time
_RECORD_LISTS = ("people", "packages")


@dataclass(frozen=True)
class InventoryCheck:
    """What the first reading of a file found: its counts, and a digest of its bytes, so that the second
    reading can tell that it read the same file."""

    packages: int
    benefits: int
    people: int
    digest: str


class InventoryChanged(InventoryError):
    """The file read while writing is not the one checked: what was written so far stays."""


def read_inventory(file: Readable) -> Iterator[InventoryRecord]:
    """The records of an inventory file (the organization, each person, each package with its benefits) in
    the file's order, each checked as :func:`parse_inventory` checks it; the file is read as far as the
    record handed on (:func:`services.json_input.stream_object`).

    Raises:
        InventoryError: the first record at fault, ``where`` naming the field and the line and column
            at which the record starts (a JSON fault: its own line and column, and the record).
    """
    ids = _Ids()
    given: set[str] = set()
    for member in stream_object(file, _RECORD_LISTS):
        given.add(member.key)
        try:
            record = _record(member, ids)
        except InventoryError as exc:
            raise InventoryError(f"{exc.where} (the record at {member.where})", exc.problem) from None
        if record is not None:
            yield record
    if "organization" not in given:
        _organization(None)
    if "packages" not in given:
        _list(None, "packages")


def _record(member: Member, ids: _Ids) -> InventoryRecord | None:
    """The record a member of the file gives (None: a list opening, or a member an inventory ignores)."""
    if member.key == "organization":
        return _organization(member.value)
    if member.key not in _RECORD_LISTS:
        return None
    if member.index is None:
        _list(member.value, member.key)
        return None
    if member.key == "people":
        return _person(member.value, member.path, ids)
    return _package(member.value, member.path, ids)


def check_inventory_file(file: Readable) -> InventoryCheck:
    """Read the whole file once and check every record, keeping only ids and counts (the first reading of
    :func:`import_inventory_file`, to which the file is then given again from its start)."""
    reading = _Digesting(file)
    counts = {"packages": 0, "benefits": 0, "people": 0}
    for record in read_inventory(reading):
        if isinstance(record, Person):
            counts["people"] += 1
        elif isinstance(record, PackageRecord):
            counts["packages"] += 1
            counts["benefits"] += len(record.benefits)
    return InventoryCheck(**counts, digest=reading.hexdigest())


async def import_inventory_file(store: DocumentStore, file: Readable, checked: InventoryCheck) -> int:
    """Write an inventory file that :func:`check_inventory_file` found valid, reading it a second time
    (its records in batches, as :func:`import_inventory` writes).

    Why two readings: nothing is written unless every record is valid, and neither reading holds more
    than a record and a batch, whatever the size of the organization.

    Raises:
        InventoryChanged: the file is not the one that was checked (the batches written so far stay;
            importing the file again completes them, as an import only upserts).
    """
    reading = _Digesting(file)
    repo = Repository(store)

    def ops() -> Iterator[Op]:
        try:
            for record in read_inventory(reading):
                yield from _record_ops(repo, record)
        except JsonInputError as exc:
            raise InventoryChanged(exc.where, f"{exc.problem} (the file changed since it was checked)") from None
        except OSError as exc:
            raise InventoryChanged("$", f"the file cannot be read any more ({exc.strerror})") from None
        if reading.hexdigest() != checked.digest:
            raise InventoryChanged("$", "the file changed since it was checked")

    return await _write(store, ops())


class _Digesting:
    """A file read through, its bytes digested."""

    def __init__(self, file: Readable) -> None:
        self._file = file
        self._digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._digest.update(data)
        return data

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class _Ids:
    """The ids given so far in one reading: a person or a benefit given twice is refused."""

    def __init__(self) -> None:
        self.people: set[str] = set()
        self.benefits: set[str] = set()


def _organization(raw: Any) -> Organization:
    org_raw = _obj(raw, "organization")
    return Organization(
        id="default",
        name=_str(org_raw, "name", "organization"),
        account_email=_email(org_raw, "account_email", "organization"),
        mpn_id=_str(org_raw, "mpn_id", "organization", required=False),
        partner_level=_str(org_raw, "partner_level", "organization", required=False),
    )


def _person(raw: Any, path: str, ids: _Ids) -> Person:
    p = _obj(raw, path)
    roles = []
    for j, r in enumerate(_list(p.get("roles", []), f"{path}.roles")):
        try:
            roles.append(Role(r))
        except ValueError:
            raise InventoryError(f"{path}.roles[{j}]", f"unknown role {r!r}; one of {_names(Role)}") from None
    person = Person(
        id=_str(p, "id", path), name=_str(p, "name", path), email=_email(p, "email", path).lower(),
        roles=frozenset(roles), aad_object_id=_str(p, "aad_object_id", path, required=False),
        teams_id=_str(p, "teams_id", path, required=False), locale=_str(p, "locale", path, required=False),
    )
    if person.id in ids.people:
        raise InventoryError(f"{path}.id", f"duplicate person id {person.id!r}")
    ids.people.add(person.id)
    return person


def _package(raw: Any, path: str, ids: _Ids) -> PackageRecord:
    pk = _obj(raw, path)
    package_texts = _texts(pk, path, ("name", True), ("source_program", True))
    package = BenefitPackage(
        id=_str(pk, "id", path), name=package_texts.pop("name"), purchased_on=_date(pk, "purchased_on", path),
        source_program=package_texts.pop("source_program"),
        expires_on=_date(pk, "expires_on", path, required=False), i18n=package_texts.pop("i18n"),
    )
    benefits = []
    for j, b in enumerate(_list(pk.get("benefits"), f"{path}.benefits")):
        benefit = _benefit(b, f"{path}.benefits[{j}]", package.id)
        if benefit.id in ids.benefits:
            raise InventoryError(f"{path}.benefits[{j}].id", f"duplicate benefit id {benefit.id!r}")
        ids.benefits.add(benefit.id)
        benefits.append(benefit)
    return PackageRecord(package, benefits)


def _benefit(raw: Any, bpath: str, package_id: str) -> Benefit:
    b = _obj(raw, bpath)
    try:
        kind = BenefitKind(b.get("kind", ""))
    except ValueError:
        raise InventoryError(f"{bpath}.kind", f"unknown kind {b.get('kind')!r}; one of {_names(BenefitKind)}") \
            from None
    quantity = b.get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 100_000:
        raise InventoryError(f"{bpath}.quantity", "must be a whole number from 1 to 100000")
    status_raw = b.get("status", Status.NOT_ACTIVATED.value)
    try:
        status = Status(status_raw)
    except ValueError:
        raise InventoryError(f"{bpath}.status", f"unknown status {status_raw!r}") from None
    # a key varies by language and OS type; a SaaS licence has no OS type (``os`` left out)
    keys = tuple(
        ProductKey(id=_str(k, "id", f"{bpath}.keys[{n}]"), language=_str(k, "language", f"{bpath}.keys[{n}]"),
                   os=_str(k, "os", f"{bpath}.keys[{n}]", required=False),
                   key=_str(k, "key", f"{bpath}.keys[{n}]"))
        for n, k in enumerate(_objs(b.get("keys", []), f"{bpath}.keys"))
    )
    downloads = tuple(
        DownloadLink(language=_str(d, "language", f"{bpath}.downloads[{n}]"),
                     os=_str(d, "os", f"{bpath}.downloads[{n}]", required=False),
                     url=_url(d, "url", f"{bpath}.downloads[{n}]"),
                     **_link_label(d, f"{bpath}.downloads[{n}]"))
        for n, d in enumerate(_objs(b.get("downloads", []), f"{bpath}.downloads"))
    )
    texts = _texts(b, bpath, ("name", True), ("description", False), ("special_instructions", False),
                   ("offer_type", False))
    return Benefit(
        id=_str(b, "id", bpath), package_id=package_id, kind=kind, name=texts["name"],
        quantity=quantity, status=status, expires_on=_date(b, "expires_on", bpath, required=False),
        activated_on=_date(b, "activated_on", bpath, required=False),
        activate_by=_date(b, "activate_by", bpath, required=False),
        description=texts["description"], special_instructions=texts["special_instructions"],
        portal_url=_url(b, "portal_url", bpath, required=False), keys=keys, downloads=downloads,
        offer_type=texts["offer_type"], i18n=texts["i18n"],
    )


def inventory_ops(store: DocumentStore, inventory: Inventory) -> list[Op]:
    """Upsert everything in the inventory; keep assignments, reveals and state already recorded."""
    return list(_inventory_ops(store, inventory))


def _inventory_ops(store: DocumentStore, inventory: Inventory) -> Iterator[Op]:
    repo = Repository(store)
    records: list[InventoryRecord] = [inventory.organization, *inventory.people]
    by_package: dict[str, list[Benefit]] = {}
    for benefit in inventory.benefits:
        by_package.setdefault(benefit.package_id, []).append(benefit)
    records += [PackageRecord(package, by_package.pop(package.id, [])) for package in inventory.packages]
    for record in records:
        yield from _record_ops(repo, record)


def _record_ops(repo: Repository, record: InventoryRecord) -> Iterator[Op]:
    """Upsert one record; keep what the bot recorded about it (roles granted in chat, activation state,
    a cancellation)."""
    if isinstance(record, Organization):
        yield repo.put_organization(record)
    elif isinstance(record, Person):
        person = record
        existing = repo.person(person.id) or repo.person_by_email(person.email)
        if existing is not None:
            person = Person(id=existing.id, name=person.name, email=person.email,
                            roles=person.roles | existing.roles, aad_object_id=person.aad_object_id or
                            existing.aad_object_id, teams_id=person.teams_id or existing.teams_id,
                            locale=person.locale or existing.locale, timezone=existing.timezone)
        yield repo.put_person(person)
    else:
        package = record.package
        existing_pkg = repo.package(package.id)
        if existing_pkg is not None and existing_pkg.status is Status.CANCELLED:
            package = BenefitPackage(**{**package.__dict__, "status": Status.CANCELLED})
        yield repo.put_package(package)
        for benefit in record.benefits:
            existing_b = repo.benefit(benefit.id)
            if existing_b is not None:  # activation state lives here, not in the export
                benefit = Benefit(**{**benefit.__dict__, "status": existing_b.status,
                                     "activated_on": existing_b.activated_on or benefit.activated_on,
                                     "expires_on": existing_b.expires_on or benefit.expires_on,
                                     "fully_assigned_on": existing_b.fully_assigned_on})
            yield repo.put_benefit(benefit)


#: Documents written per batch by an import.
IMPORT_BATCH = 5_000


async def import_inventory(store: DocumentStore, inventory: Inventory) -> int:
    """Write an inventory (validated whole already) in batches of ``IMPORT_BATCH`` documents (see
    :func:`_write`)."""
    return await _write(store, _inventory_ops(store, inventory))


async def _write(store: DocumentStore, ops: Iterator[Op]) -> int:
    """Write ``ops`` in batches of ``IMPORT_BATCH`` documents, each decided on the newest state: under the
    store's mutation lock, so that on a store several instances share no change made meanwhile is
    overwritten.

    Why batches: one batch for a whole directory holds every document several times over while it is
    encoded and journaled (an organization of 150,000 people would need several times the memory of
    the bot that then holds them). An import cut short (a crash) leaves the batches written so far;
    importing the file again completes it, as an import only ever upserts.
    """
    count = 0
    async with store.mutation_lock():
        batch: list[Op] = []
        for op in ops:
            batch.append(op)
            if len(batch) >= IMPORT_BATCH:
                await store.apply(batch)
                count, batch = count + len(batch), []
        if batch:
            await store.apply(batch)
    return count + len(batch)


def demo_inventory(today: date) -> dict[str, Any]:
    """Contoso: one package of every category; people match ``.m365agentsplayground.yml``.

    Dates are relative to ``today`` so the demo always shows a package inside the 30-day refund
    window and one outside it.
    """
    def d(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    def person(n: int, name: str, email: str, roles: list[str]) -> dict[str, Any]:
        aad = f"00000000-0000-0000-0000-0000000000a{n}"
        slug = name.lower().replace(" ", "-")
        return {"id": aad, "name": name, "email": email, "roles": roles, "aad_object_id": aad,
                "teams_id": f"29:1-{slug}"}

    langs = ["English", "Chinese (Simplified)", "Chinese (Traditional)"]
    oses = ["64-bit", "32-bit"]

    def keys(prefix: str, by_os: bool = True) -> list[dict[str, str]]:
        """One key per language and OS type; a SaaS licence (``by_os=False``) has no OS type."""
        out = []
        for li, lang in enumerate(langs):
            for oi, os_ in enumerate(oses if by_os else [""]):
                n = li * 2 + oi
                key = {"id": f"{prefix}-k{n}", "language": lang,
                       "key": f"{prefix[:5].upper():X<5}-{n:05d}-DEMO0-KEY00-{li}{oi}XYZ"}
                if os_:
                    key["os"] = os_
                out.append(key)
        return out

    def downloads(slug: str) -> list[dict[str, str]]:
        return [{"language": lang, "os": os_, "url": f"https://my.visualstudio.com/Downloads?q={slug}"}
                for lang in langs for os_ in oses]

    def names(en: str, zh_cn: str, zh_tw: str) -> dict[str, str]:
        """Partner Center's wording in each locale (the seeds' where they have it)."""
        return {"en-US": en, "zh-CN": zh_cn, "zh-TW": zh_tw}

    go_to_market = names("Go-to-market benefits", "市场投放权益", "進入市場供應項目")
    return {
        "organization": {"name": "Contoso", "account_email": "partnercenter@contoso.com", "mpn_id": "4412345",
                         "partner_level": "Gold"},
        "people": [
            person(1, "Alex Wilber", "alexw@contoso.com", ["global_admin"]),
            person(2, "Megan Bowen", "meganb@contoso.com", ["mpn_partner_admin"]),
            person(3, "Lee Gu", "leeg@contoso.com", []),
            person(4, "Nestor Wilke", "nestorw@contoso.com", []),
            person(5, "Isaiah Langer", "isaiahl@contoso.com", ["user_admin"]),
            person(6, "Diego Siciliani", "diegos@contoso.com", []),
        ],
        "packages": [
            {"id": "pkg-action-pack",
             "name": names("Microsoft Action Pack", "Microsoft Action Pack", "Microsoft 行動套件"),
             "purchased_on": d(-12), "source_program": names("Action Pack", "Action Pack", "行動套件"),
             "expires_on": d(353), "benefits": [
                 {"id": "sw-office", "kind": "software",
                  "name": names("Microsoft 365 Apps for enterprise", "Microsoft 365 企业应用版",
                                "Microsoft 365 Apps 企業版"), "quantity": 10,
                  "special_instructions": names(
                      "Install with the Office Deployment Tool; activate with the key below.",
                      "使用 Office 部署工具安装；使用下面的密钥激活。",
                      "使用 Office 部署工具安裝；使用下方的金鑰啟用。"),
                  "keys": keys("office"), "downloads": downloads("office")},
                 {"id": "sw-windows-server", "kind": "software",
                  "name": names("Windows Server 2025 Standard", "Windows Server 2025 标准版",
                                "Windows Server 2025 標準版"),
                  "quantity": 4, "keys": keys("winsrv"), "downloads": downloads("windows-server")},
                 {"id": "cloud-azure-credit", "kind": "cloud_usage_based",
                  "name": names("Azure monthly credit", "Azure 每月额度", "Azure 每月點數"),
                  "quantity": 1, "activate_by": d(60), "portal_url": "https://portal.azure.com/#home",
                  "description": names("USD 100 of Azure services every month.", "每月 100 美元的 Azure 服务。",
                                       "每月 100 美元的 Azure 服務。")},
                 {"id": "vs-enterprise", "kind": "visual_studio",
                  "name": names("Visual Studio Enterprise subscription", "Visual Studio 企业版订阅",
                                "Visual Studio 企業版訂閱"),
                  "quantity": 3, "portal_url": "https://my.visualstudio.com"},
             ]},
            {"id": "pkg-gold-cloud",
             "name": names("Gold Cloud Platform competency", "金牌云平台能力", "金級雲端平台專長認證"),
             "purchased_on": d(-200), "source_program": names("Gold competency", "金牌能力", "金級專長認證"),
             "expires_on": d(165), "benefits": [
                 {"id": "cloud-dynamics", "kind": "cloud_license_based",
                  "name": names("Dynamics 365 Sales Enterprise", "Dynamics 365 Sales 企业版",
                                "Dynamics 365 Sales 企業版"),
                  "quantity": 5, "keys": keys("dyn365", by_os=False),
                  "special_instructions": names(
                      "Redeem the key in the Microsoft 365 admin center under Billing.",
                      "在 Microsoft 365 管理中心的“账单”下兑换密钥。",
                      "在 Microsoft 365 系統管理中心的 [帳單] 下兌換金鑰。")},
                 {"id": "vs-professional", "kind": "visual_studio",
                  "name": names("Visual Studio Professional subscription", "Visual Studio 专业版订阅",
                                "Visual Studio 專業版訂閱"),
                  "quantity": 5, "portal_url": "https://my.visualstudio.com"},
                 {"id": "tech-support", "kind": "support_incidents",
                  "name": names("Product support incidents", "Microsoft 产品支持事件", "Microsoft 產品支援事件"),
                  "quantity": 20},
                 {"id": "tech-advisory", "kind": "advisory_hours",
                  "name": names("Partner advisory hours", "合作伙伴咨询小时", "合作夥伴諮詢時數"), "quantity": 50},
                 {"id": "tech-presales", "kind": "presales",
                  "name": names("Technical presales and deployment services", "技术售前和部署服务",
                                "技術售前和部署服務"),
                  "quantity": 1},
                 {"id": "gtm-gold-core", "kind": "go_to_market_offer", "name": go_to_market,
                  "offer_type": names("Gold Core", "金级核心", "金級核心")},
                 {"id": "gtm-isv-cosell", "kind": "go_to_market_offer", "name": go_to_market,
                  "offer_type": names("ISV Co-sell ready", "ISV 共同销售就绪", "ISV 為共同銷售做好準備")},
             ]},
        ],
    }


def _texts(obj: dict[str, Any], path: str, *specs: tuple[str, bool]) -> dict[str, Any]:
    """Text fields that may be given per locale: ``{name: own text, ..., "i18n": {name: {locale: text}}}``."""
    out: dict[str, Any] = {}
    i18n: dict[str, dict[str, str]] = {}
    for name, required in specs:
        value = obj.get(name)
        extra = obj.get(f"{name}_i18n")
        per_locale: dict[str, str] = {}
        if isinstance(value, dict):
            per_locale = _locale_map(value, f"{path}.{name}")
            own = per_locale.get(DEFAULT_LOCALE) or next(iter(per_locale.values()), "")
            if required and not own:
                raise InventoryError(f"{path}.{name}", "is required")
        else:
            own = _str(obj, name, path, required)
        if extra is not None:
            per_locale = {**per_locale, **_locale_map(extra, f"{path}.{name}_i18n")}
        out[name] = own
        others = {loc: text for loc, text in per_locale.items() if loc != DEFAULT_LOCALE}
        if others:
            i18n[name] = others
    out["i18n"] = i18n
    return out


def _locale_map(value: Any, path: str) -> dict[str, str]:
    """``{"zh-CN": "...", ...}``: known locales only, each a non-empty string of at most 2000 characters."""
    mapping = _obj(value, path)
    out: dict[str, str] = {}
    for locale in mapping:
        if locale not in LOCALES:
            raise InventoryError(f"{path}.{locale}", f"unknown locale; one of {', '.join(LOCALES)}")
        out[locale] = _str(mapping, locale, path)
    return out


def _link_label(obj: dict[str, Any], path: str) -> dict[str, Any]:
    texts = _texts(obj, path, ("label", False))
    return {"label": texts["label"], "i18n": texts["i18n"]}


def _names(enum: Any) -> str:
    return ", ".join(e.value for e in enum)


def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InventoryError(path, "must be an object")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise InventoryError(path, "must be a list")
    return value


def _objs(value: Any, path: str) -> list[dict[str, Any]]:
    return [_obj(v, f"{path}[{i}]") for i, v in enumerate(_list(value, path))]


def _str(obj: dict[str, Any], name: str, path: str, required: bool = True) -> str:
    value = obj.get(name)
    if value is None or value == "":
        if required:
            raise InventoryError(f"{path}.{name}", "is required")
        return ""
    if not isinstance(value, str):
        raise InventoryError(f"{path}.{name}", "must be a string")
    if len(value) > 2000:
        raise InventoryError(f"{path}.{name}", "is longer than 2000 characters")
    return value.strip()


def _email(obj: dict[str, Any], name: str, path: str) -> str:
    value = _str(obj, name, path)
    try:
        return validate_email(value, name)
    except Exception:
        raise InventoryError(f"{path}.{name}", f"not an email address: {value!r}") from None


def _url(obj: dict[str, Any], name: str, path: str, required: bool = True) -> str:
    value = _str(obj, name, path, required)
    if value and not value.startswith("https://"):
        raise InventoryError(f"{path}.{name}", "must be an https:// link")
    return value


@overload
def _date(obj: dict[str, Any], name: str, path: str, required: Literal[True] = True) -> date: ...
@overload
def _date(obj: dict[str, Any], name: str, path: str, required: bool) -> date | None: ...
def _date(obj: dict[str, Any], name: str, path: str, required: bool = True) -> date | None:
    value = _str(obj, name, path, required)
    if not value:
        if required:  # white space only: _str gives it back empty
            raise InventoryError(f"{path}.{name}", "is required")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InventoryError(f"{path}.{name}", f"not a date (YYYY-MM-DD): {value!r}") from None
