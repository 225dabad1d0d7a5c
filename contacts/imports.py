"""Importing contacts from a CSV file: streamed row by row, upserted by number in batches, with a report.

Memory stays flat whatever the file's size: rows are decoded through a text wrapper over the upload, checked as
they pass, and written in batches of ``BATCH`` (one query to find the numbers already there, one bulk insert, one
bulk update, one insert of tag links). The report keeps counters and the first ``REFUSED_LISTED`` refused rows.
A bad file (not text, no header, an unknown column in the mapping) is an ApplicationError, never a 500.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO

from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.tenancy import require_role
from contacts import services
from contacts.models import AttributeDefinition, ConsentSource, Tag
from messaging.models import Contact
from messaging.webhooks.batch import bulk_update_rows
from waportal.errors import ApplicationError
from waportal.queueing import task_enqueue

BATCH = 500
REFUSED_LISTED = 1000
HEAD_BYTES = 64 * 1024
CELL_MAX = 1000
TARGETS = {"number", "name", "language", "tags", "opted_out"}
TRUE_WORDS = {"1", "true", "yes", "si", "sí", "x", "opted_out"}


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    refused: int = 0
    refused_rows: list[dict] = field(default_factory=list)

    def refuse(self, row: int, reason: str) -> None:
        self.refused += 1
        if len(self.refused_rows) < REFUSED_LISTED:
            self.refused_rows.append({"row": row, "reason": str(reason)})

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "rows": self.rows, "created": self.created, "updated": self.updated,
                "refused": self.refused, "refused_rows": self.refused_rows,
                "refused_rows_truncated": self.refused > len(self.refused_rows)}


def _encoding(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "cp1252"


def csv_rows(binary: IO[bytes]) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and an iterator of (row number, {column: cell}); row 2 is the first after the header."""
    head = binary.read(HEAD_BYTES)
    if not head.strip():
        raise ApplicationError(_("The file is empty."), field="file")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ApplicationError(_("The file is not a CSV text file."), field="file")
    encoding = _encoding(head)
    binary.seek(0)
    text = io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")
    sample = head.decode(encoding, errors="replace")
    try:
        delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise ApplicationError(_("The file has no header row."), field="file")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        number = 1
        while True:
            number += 1
            try:
                line = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield number, {"\x00error": str(exc)[:200]}
                continue
            if not any(cell.strip() for cell in line):
                continue
            yield number, dict(zip(header, line, strict=False))

    return header, rows()


def mapping_clean(mapping: Mapping[str, str], header: list[str], definitions: dict) -> dict[str, str]:
    """{column: target}: a target is number, name, language, tags, opted_out or an attribute key."""
    if not isinstance(mapping, Mapping) or not mapping:
        raise ApplicationError(_("Give the column mapping as an object of column: field."), field="mapping")
    missing = [c for c in mapping if c not in header]
    if missing:
        raise ApplicationError(_("The file has no column %(columns)s (it has: %(header)s).") % {
            "columns": ", ".join(missing)[:200], "header": ", ".join(header)[:300]}, field="mapping")
    unknown = [t for t in mapping.values() if t not in TARGETS and t not in definitions]
    if unknown:
        raise ApplicationError(_("%(targets)s is not a contact field or attribute.") % {
            "targets": ", ".join(map(str, unknown))[:200]}, field="mapping")
    if "number" not in mapping.values():
        raise ApplicationError(_("Map one column to number."), field="mapping")
    return dict(mapping)


def _update_rows(contacts: list[Contact], fields: list[str]) -> None:
    """Write ``fields`` of ``contacts``: one array statement on PostgreSQL, ``executemany`` elsewhere (Django's
    ``bulk_update`` builds a CASE per row and field: most of an import's time at 500 rows)."""
    if not contacts:
        return
    if connection.vendor == "postgresql":
        bulk_update_rows(Contact, contacts, fields)
        return
    meta = Contact._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(c.column)} = %s' for c in columns)} "
           f"WHERE {quote(meta.pk.column)} = %s")
    rows = [[*(c.get_db_prep_save(getattr(obj, c.attname), connection) for c in columns), obj.pk]
            for obj in contacts]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


class _Batch:
    def __init__(self, *, client_id: int, actor, report: ImportReport, definitions: dict, region: str,
                 tags: list[str]) -> None:
        self.client_id, self.actor, self.report = client_id, actor, report
        self.definitions, self.region, self.extra_tags = definitions, region, tags
        self.tag_ids: dict[str, int] = {}

    def row(self, number: int, cells: dict[str, str], mapping: dict[str, str]) -> dict | None:
        if "\x00error" in cells:
            self.report.refuse(number, cells["\x00error"])
            return None
        item: dict = {"row": number, "attributes": {}, "tags": list(self.extra_tags)}
        try:
            for column, target in mapping.items():
                value = (cells.get(column) or "").strip()
                if len(value) > CELL_MAX:
                    raise ApplicationError(_("The %(column)s cell is too long.") % {"column": column[:40]})
                if target == "number":
                    item["wa_id"] = services.number_normalize(value, region=self.region)
                elif target == "name":
                    item["name"] = value[: services.NAME_MAX]
                elif target == "language":
                    item["language"] = services._language(value)
                elif target == "tags":
                    item["tags"] += [t.strip()[: services.TAG_MAX] for t in value.replace(";", ",").split(",")
                                     if t.strip()]
                elif target == "opted_out":
                    item["opted_out"] = value.casefold() in TRUE_WORDS
                elif value:
                    item["attributes"][target] = services.attribute_value(self.definitions[target], value)
        except ApplicationError as exc:
            self.report.refuse(number, exc.message)
            return None
        return item

    def store(self, items: list[dict]) -> None:
        by_number: dict[str, dict] = {}
        for item in items:
            if item["wa_id"] in by_number:
                self.report.refuse(item["row"], _("Same number as row %(row)d.") % {
                    "row": by_number[item["wa_id"]]["row"]})
                continue
            by_number[item["wa_id"]] = item
        existing = {c.wa_id: c for c in Contact.objects.filter(client_id=self.client_id,
                                                               wa_id__in=list(by_number))}
        self.report.created += len(by_number) - len(existing)
        self.report.updated += len(existing)
        if self.report.dry_run:
            return
        now = timezone.now()
        new = [Contact(client_id=self.client_id, wa_id=n, profile_name=i.get("name", ""),
                       language=i.get("language", ""), attributes=i["attributes"], created_at=now, updated_at=now)
               for n, i in by_number.items() if n not in existing]
        Contact.objects.bulk_create(new, batch_size=BATCH)
        for contact in existing.values():
            item = by_number[contact.wa_id]
            contact.profile_name = item.get("name") or contact.profile_name
            contact.language = item.get("language") or contact.language
            contact.attributes = {**(contact.attributes or {}), **item["attributes"]}
            contact.updated_at = now
        _update_rows(list(existing.values()), ["profile_name", "language", "attributes", "updated_at"])
        ids = dict(Contact.objects.filter(client_id=self.client_id, wa_id__in=list(by_number))
                   .values_list("wa_id", "pk"))
        self._tags(by_number, ids)
        self._consent(by_number, ids, existing)

    def _tags(self, by_number: dict[str, dict], ids: dict[str, int]) -> None:
        through = Tag.contacts.through
        links = set()
        for number, item in by_number.items():
            for name in item["tags"]:
                if name not in self.tag_ids:
                    self.tag_ids[name] = Tag.objects.get_or_create(client_id=self.client_id, name=name)[0].pk
                links.add((ids[number], self.tag_ids[name]))
        if links:
            have = set(through.objects.filter(contact_id__in=list(ids.values()),
                                              tag_id__in=list(self.tag_ids.values()))
                       .values_list("contact_id", "tag_id"))
            through.objects.bulk_create([through(contact_id=c, tag_id=t) for c, t in links - have],
                                        batch_size=BATCH)

    def _consent(self, by_number: dict[str, dict], ids: dict[str, int], existing: dict[str, Contact]) -> None:
        """A column mapped to opted_out changes consent with an event (import); only real changes count."""
        from contacts import consent

        for number, item in by_number.items():
            wanted = item.get("opted_out")
            if wanted is None:
                continue
            contact = existing.get(number) or Contact(pk=ids[number], client_id=self.client_id, wa_id=number,
                                                      opted_out=False)
            consent._record(contact=contact, opted_out=wanted, source=ConsentSource.IMPORT, actor=self.actor,
                            detail=_("import"))


def contacts_import(*, actor, client_id: int, file: IO[bytes], mapping: Mapping[str, str], dry_run: bool = False,
                    region: str = "CO", tags: list[str] | None = None,
                    progress: Callable[[int], None] | None = None) -> dict:
    """Upsert the client's contacts from a CSV ``file`` by number; the report (dry run: nothing written).

    ``progress(rows_read)`` is called after every batch written (a background import records it).
    """
    require_role(actor, client_id, Role.AGENT)
    definitions = {d.key: d for d in AttributeDefinition.objects.filter(client_id=client_id)}
    header, rows = csv_rows(file)
    mapping = mapping_clean(mapping, header, definitions)
    report = ImportReport(dry_run=dry_run)
    batch = _Batch(client_id=client_id, actor=actor, report=report, definitions=definitions, region=region,
                   tags=[t.strip()[: services.TAG_MAX] for t in tags or [] if t.strip()])
    pending: list[dict] = []
    for number, cells in rows:
        report.rows += 1
        item = batch.row(number, cells, mapping)
        if item is not None:
            pending.append(item)
        if len(pending) >= BATCH:
            with transaction.atomic():
                batch.store(pending)
            pending = []
            if progress is not None:
                progress(report.rows)
    if pending:
        with transaction.atomic():
            batch.store(pending)
    return report.as_dict()





# --- in the background, with progress ---------------------------------------------------------


def contact_import_start(*, actor, client_id: int, file, original_name: str, mapping: Mapping[str, str],
                         dry_run: bool = False, region: str = "CO", tags: list[str] | None = None):
    """Check the file's header and the mapping now, store the file and let a task import it (202 and poll)."""
    from contacts.models import ContactImport
    from contacts.tasks import contact_import_run

    require_role(actor, client_id, Role.AGENT)
    definitions = {d.key: d for d in AttributeDefinition.objects.filter(client_id=client_id)}
    header, _rows = csv_rows(file)
    mapping = mapping_clean(mapping, header, definitions)
    file.seek(0)
    with transaction.atomic():
        job = ContactImport(client_id=client_id, original_name=original_name[:200], mapping=mapping,
                            options={"dry_run": dry_run, "region": region, "tags": list(tags or [])},
                            created_by=actor if getattr(actor, "is_authenticated", False) else None)
        job.file.save(f"{client_id}.csv", File(file), save=False)
        job.save()
        job_id = job.pk
        transaction.on_commit(lambda: task_enqueue(contact_import_run, import_id=job_id))
    return job


def contact_import_run(*, import_id: int) -> None:
    """The task's work: import the stored file, recording rows read and the share of the file done."""
    from contacts.models import ContactImport, ImportStatus

    job = ContactImport.objects.select_related("created_by").get(pk=import_id)
    if job.status != ImportStatus.QUEUED:
        return  # a task delivered twice
    ContactImport.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    try:
        with job.file.open("rb") as handle:
            size = max(1, job.file.size)

            def progress(rows: int) -> None:
                done = min(99, int(100 * handle.tell() / size))
                ContactImport.objects.filter(pk=job.pk).update(rows_done=rows, percent=done)

            report = contacts_import(actor=job.created_by, client_id=job.client_id, file=handle, mapping=job.mapping,
                                     dry_run=job.options.get("dry_run", False),
                                     region=job.options.get("region", "CO"), tags=job.options.get("tags") or [],
                                     progress=progress)
    except ApplicationError as exc:
        ContactImport.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, error=exc.message,
                                                       finished_at=timezone.now())
    else:
        ContactImport.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, report=report,
                                                       rows_done=report["rows"], percent=100,
                                                       finished_at=timezone.now())
    job.file.delete(save=False)
    ContactImport.objects.filter(pk=job.pk).update(file="")
