"""The version of the data a journaled store's folder holds, and the upgrades of older data at start.

Why: the documents' shape changes as the bot does (a field an older bot stored is now derived, say). A
folder written by an older bot must be brought up to date once, when a newer bot opens it, and a folder
written by a *newer* bot must not be opened by an older one, which would misread or rewrite what it
does not know. So the folder records the version of its data in ``<store>.schema.json`` beside the
store's files (``data/benefits.schema.json``), written atomically after each upgrade.

* A store this open created is at the newest version (nothing to upgrade).
* A folder without the record holds data of version 1 (written before versions were recorded).
* Each :class:`DataMigration` of a higher version than the record is applied in order, each as one batch
  through the store (journaled, atomic), then the record moves on. Every migration is idempotent: a
  crash between its batch and the record only makes the next start run it again, with nothing to do.
* A record newer than this code knows is refused with :class:`StoreUnavailableError`, before anything
  is written.

The PostgreSQL engine records its tables' schema in ``store_migrations`` (``postgres_schema``) and the
version of its data in ``store_data_version``; :func:`upgrade_shared` applies the same migrations there,
one instance at a time.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from services.storage.base import DocumentStore, Op, Put
from services.storage.errors import StoreUnavailableError
from services.storage.journal import fsync_dir

if TYPE_CHECKING:
    from services.storage.postgres import PostgresStore

log = logging.getLogger(__name__)

SUFFIX = ".schema.json"
ERR_NEWER = ("{path} holds data of version {found}, newer than this bot knows (version {known}): run the "
             "newer bot again, or restore a backup made for this version")
ERR_UNREADABLE = "{path} cannot be read as a data version record: {reason}"


class DataMigration(NamedTuple):
    version: int
    """The version the data has once this migration is applied."""
    name: str
    store: str
    """The store it concerns, by file stem (``benefits``); other stores only move their record on."""
    upgrade: Callable[[DocumentStore], list[Op]]
    """The writes that bring the data up to this version (none once it is there: idempotent)."""


#: people's search keys and name skeletons are derived from the name and email when the directory is
#: sorted; older bots stored them in every person's document (hundreds of bytes each)
DERIVED_PERSON_FIELDS = ("_search", "_skeleton")


def _people_without(store: DocumentStore, unwanted: Callable[[str, Any], bool]) -> list[Op]:
    """The writes that leave out of people's documents the fields ``unwanted(name, value)`` names (none
    for a person whose document holds none of them)."""
    ops: list[Op] = []
    for doc in store.all("people"):
        if any(unwanted(name, value) for name, value in doc.items()):
            kept = {name: value for name, value in doc.items() if name != "id" and not unwanted(name, value)}
            ops.append(Put("people", doc["id"], kept))
    return ops


def _drop_derived_person_fields(store: DocumentStore) -> list[Op]:
    return _people_without(store, lambda name, _: name in DERIVED_PERSON_FIELDS)


#: a person's Entra and Teams ids are stored only once known (``domain.models.UNKNOWN_IDS_LEFT_OUT``); older bots
#: stored them empty, which put everyone who never opened Teams under ``""`` in the indexes of these ids
UNKNOWN_PERSON_IDS = ("aad_object_id", "teams_id")


def _drop_unknown_person_ids(store: DocumentStore) -> list[Op]:
    return _people_without(store, lambda name, value: name in UNKNOWN_PERSON_IDS and value == "")


MIGRATIONS: tuple[DataMigration, ...] = (
    DataMigration(2, "people's search keys are derived, no longer stored", "benefits", _drop_derived_person_fields),
    DataMigration(3, "people's unknown Entra and Teams ids are left out", "benefits", _drop_unknown_person_ids),
)
"""Never edited once released: a change of the data's shape is a new entry at the end."""
CURRENT = MIGRATIONS[-1].version


def record_path(store_path: Path) -> Path:
    """Where the version of the store at ``store_path`` (``data/benefits.json``) is recorded."""
    return store_path.with_name(store_path.stem + SUFFIX)


def recorded_version(store_path: Path) -> int | None:
    """The recorded version; None when there is no record.

    Raises:
        StoreUnavailableError: the record cannot be read, or names a version newer than :data:`CURRENT`.
    """
    path = record_path(store_path)
    try:
        found = json.loads(path.read_text(encoding="utf-8"))["version"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreUnavailableError(ERR_UNREADABLE.format(path=path, reason=type(exc).__name__)) from exc
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise StoreUnavailableError(ERR_UNREADABLE.format(path=path, reason=f"version {found!r}"))
    if found > CURRENT:
        raise StoreUnavailableError(ERR_NEWER.format(path=path, found=found, known=CURRENT))
    return found


def check_version(store_path: Path) -> None:
    """Refuse, before a store is opened, a folder written by a newer bot (see :func:`recorded_version`)."""
    recorded_version(store_path)


def _record(store_path: Path, version: int) -> None:
    """Write the record atomically: a temp file, fsynced, renamed over the old one, the folder fsynced."""
    path = record_path(store_path)
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "w", encoding="utf-8") as out:
        out.write(json.dumps({"version": version}) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)
    fsync_dir(path.parent)


async def _apply(store: DocumentStore, name: str, found: int, migrations: Sequence[DataMigration]
                 ) -> tuple[list[int], int]:
    """Apply the migrations past ``found`` to the store called ``name``; the versions applied, and how many
    documents they wrote."""
    applied: list[int] = []
    written = 0
    for migration in migrations:
        if migration.version <= found:
            continue
        if migration.store == name:
            ops = migration.upgrade(store)
            if ops:
                await store.apply(ops)
                written += len(ops)
            log.warning("upgraded the stored data", extra={
                "event": "storage.data_upgraded", "store": name, "version": migration.version, "documents": len(ops)})
        applied.append(migration.version)
    return applied, written


async def upgrade(store: DocumentStore, store_path: Path, *, created: bool,
                  migrations: Sequence[DataMigration] = MIGRATIONS,
                  after_writes: Callable[[], Awaitable[None]] | None = None) -> list[int]:
    """Bring the data of the open journaled ``store`` (files at ``store_path``) to the newest version;
    ``after_writes`` is awaited once the record moved on if the upgrade wrote any document (the engine's
    compaction: else every start until the next one replays the upgraded documents from the journal, which
    for a whole directory of people is seconds).

    Returns the versions applied (empty: it was up to date).

    Raises:
        StoreUnavailableError: the record is newer than this code, unreadable, or cannot be written; or the
            store refused a migration's batch (the record stays where it was: the next start retries).
    """
    newest = migrations[-1].version if migrations else 1
    found = recorded_version(store_path)
    if found is None:
        found = newest if created else 1
    applied, written = await _apply(store, store_path.stem, found, migrations)
    if applied or not record_path(store_path).exists():
        try:
            _record(store_path, max(found, *applied) if applied else found)
        except OSError as exc:
            raise StoreUnavailableError(f"cannot record the data version beside {store_path}: {exc.strerror}") from exc
    if written and after_writes is not None:
        try:
            await after_writes()
        except (OSError, StoreUnavailableError) as exc:  # the journal holds the upgrade: the start goes on
            log.warning("the upgraded data could not be compacted; the journal holds it", extra={
                "event": "storage.upgrade_uncompacted", "store": store_path.stem,
                "reason": f"{type(exc).__name__}: {exc}"})
    return applied


async def upgrade_shared(store: PostgresStore, name: str, *,
                         migrations: Sequence[DataMigration] = MIGRATIONS) -> list[int]:
    """The same for a store in PostgreSQL (its version recorded in ``store_data_version``), under the
    store's mutation lock: of several instances starting together one upgrades, on the newest data.

    Raises:
        StoreUnavailableError: the recorded version is newer than this code, or the database failed.
    """
    newest = migrations[-1].version if migrations else 1
    async with store.mutation_lock():
        found = await store.data_version()
        if found is not None and found > newest:
            raise StoreUnavailableError(ERR_NEWER.format(path=f"{store.config.safe_target}#{store.namespace}",
                                                         found=found, known=newest))
        start = found if found is not None else (newest if store.created else 1)
        applied, _ = await _apply(store, name, start, migrations)
        if applied or found is None:
            await store.record_data_version(max(start, *applied) if applied else start)
    return applied
