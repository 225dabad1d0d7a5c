"""Reading recipient lists and checking them row by row, in bounded memory.

A 100,000-row file never sits in memory: the CSV is decoded through a
buffered text wrapper over the (temporary or stored) file, rows are checked as
they stream past, and they are written with ``bulk_create`` in batches. The
only state kept across batches is a handful of counters; duplicates and
opt-outs are found with one indexed query per batch instead of a growing set.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO

import phonenumbers
from django.db import connection
from django.utils.translation import gettext as _

from campaigns import conf
from campaigns.models import Campaign, CampaignRecipient, RecipientState, SkipReason
from campaigns.variables import RowChecker, Slot
from messaging.sending import opted_out_among
from providers.contract import Capabilities
from waportal.errors import ApplicationError

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
PHONE_HEADERS = ("phone", "telefono", "teléfono", "celular", "movil", "móvil", "mobile", "number", "numero",
                 "número", "whatsapp", "wa_id", "to", "msisdn")
SCIENTIFIC_RE = re.compile(r"^\d+([.,]\d+)?[eE]\+?\d+$")
PHONE_MAX = 32
# Rows per INSERT statement (7 parameters each: well under SQLite's 999-parameter floor).
INSERT_ROWS = 140


@dataclass(frozen=True)
class CsvFormat:
    encoding: str
    delimiter: str
    columns: list[str]


@dataclass(frozen=True)
class RawRow:
    row_number: int
    phone: str
    values: dict[str, str]
    problem: str = ""  # the file's row cannot be used (a NUL, an oversized cell): skipped with this reason
    problem_reason: str = ""  # its SkipReason


@dataclass
class IngestResult:
    rows: int = 0
    sendable: int = 0
    reasons: Counter = field(default_factory=Counter)

    def as_report(self) -> dict:
        return {"rows": self.rows, "sendable": self.sendable, "skipped": self.rows - self.sendable,
                "reasons": dict(self.reasons)}


# --- CSV -------------------------------------------------------------------------


def _detect_encoding(head: bytes) -> str:
    """The file's encoding, from its first bytes.

    UTF-16 by its byte-order mark, or without one by the NUL bytes every other
    byte of ASCII text has in UTF-16; UTF-8 (with or without BOM) when the start
    decodes as UTF-8; else Windows-1252 (Excel's CSV, Latin-1 with a few more
    letters).
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0) * 3 >= len(sample):
        odd, even = sample[1::2].count(0), sample[0::2].count(0)
        if odd > 2 * max(even, 1):
            return "utf-16-le"
        if even > 2 * max(odd, 1):
            return "utf-16-be"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def cell_max() -> int:
    return int(conf.setting("CAMPAIGN_CELL_MAX_CHARS"))


def _row_problem(line: list[str], columns: list[str]) -> tuple[str, str]:
    """Why a CSV row cannot be used whatever its columns mean (a NUL, an oversized cell), with its reason."""
    limit = cell_max()
    for index, cell in enumerate(line):
        column = columns[index] if index < len(columns) else str(index + 1)
        if "\x00" in cell:
            return SkipReason.INVALID_VALUE, _("The column %(column)s contains a NUL character.") % {
                "column": column}
        if len(cell) > limit:
            return SkipReason.TOO_LONG, _("The column %(column)s is longer than %(limit)d characters.") % {
                "column": column, "limit": limit}
    return "", ""


def _text(binary: IO[bytes], encoding: str) -> io.TextIOWrapper:
    # errors="replace": a stray byte deep in a big file must not abort the whole check.
    return io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")


def _rewind(binary: IO[bytes]) -> None:
    binary.seek(0)


def csv_format(binary: IO[bytes]) -> CsvFormat:
    """Encoding, delimiter and header of a CSV, read from its first 64 KB only."""
    _rewind(binary)
    head = binary.read(SNIFF_BYTES)
    _rewind(binary)
    if not head.strip():
        raise ApplicationError(_("The file is empty."), field="file")
    encoding = _detect_encoding(head)
    sample = head.decode(encoding, errors="ignore")
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = max(DELIMITERS, key=first_line.count) if any(d in first_line for d in DELIMITERS) else ","
    text = _text(binary, encoding)
    try:
        header = next(csv.reader(text, delimiter=delimiter), [])
    except csv.Error:
        header = [""]
    finally:
        text.detach()
        _rewind(binary)
    columns = [name.strip() for name in header]
    if any("\x00" in name or len(name) > 200 for name in columns):
        raise ApplicationError(_("The first row must name the columns in plain text: a column name contains a "
                                 "NUL character or is longer than 200 characters."), field="file")
    if not any(columns):
        raise ApplicationError(_("The first row must name the columns (e.g. phone, name)."), field="file")
    if any(not name for name in columns):
        raise ApplicationError(_("Every column needs a name in the first row."), field="file")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise ApplicationError(
            _("Column names must be unique; repeated: %(names)s.") % {"names": ", ".join(repeated)}, field="file"
        )
    return CsvFormat(encoding=encoding, delimiter=delimiter, columns=columns)


def suggest_phone_column(columns: list[str]) -> str:
    for column in columns:
        if column.strip().lower() in PHONE_HEADERS:
            return column
    return ""


def csv_rows(binary: IO[bytes], *, fmt: CsvFormat, phone_column: str, mapping: Mapping[str, str]) -> Iterator[RawRow]:
    """The file's data rows as :class:`RawRow`, streamed; numbered as a spreadsheet shows them (header = 1)."""
    positions = {name: index for index, name in enumerate(fmt.columns)}
    phone_at = positions[phone_column]
    slot_at = {slot: positions[column] for slot, column in mapping.items() if column}
    _rewind(binary)
    text = _text(binary, fmt.encoding)
    try:
        reader = csv.reader(text, delimiter=fmt.delimiter)
        next(reader, None)
        # Records counted as a spreadsheet counts rows (the header is row 1), even
        # when a quoted cell spans several lines of the file. A record the reader
        # refuses (a cell over its field limit) is reported as that row's problem.
        row_number = 1
        while True:
            row_number += 1
            try:
                line = next(reader)
            except StopIteration:
                break
            except csv.Error:
                yield RawRow(row_number=row_number, phone="", values={}, problem_reason=SkipReason.TOO_LONG,
                             problem=_("A cell is longer than %(limit)d characters.") % {"limit": cell_max()})
                continue
            if not any(cell.strip() for cell in line):
                continue  # blank lines at the end of spreadsheets
            reason, problem = _row_problem(line, fmt.columns)
            if problem:
                phone = line[phone_at].strip() if phone_at < len(line) else ""
                yield RawRow(row_number=row_number, phone=phone.replace("\x00", "")[:PHONE_MAX], values={},
                             problem=problem, problem_reason=reason)
                continue
            width = len(line)
            yield RawRow(
                row_number=row_number,
                phone=line[phone_at].strip() if phone_at < width else "",
                values={slot: (line[at] if at < width else "") for slot, at in slot_at.items()},
            )
    finally:
        text.detach()


# --- phone numbers ------------------------------------------------------------------


def normalize_phone(raw: str, *, region: str, capabilities: Capabilities | None = None) -> tuple[str, str]:
    """``(digits, "")`` for a valid number (E.164 without "+") the provider serves, or ``("", why)``."""
    value = raw.strip()
    if not value:
        return "", _("The phone is empty.")
    if SCIENTIFIC_RE.match(value):
        return "", _("The number looks like %(value)s: a spreadsheet turned it into scientific notation; "
                     "format the column as text.") % {"value": value}
    number = None
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        digits_only = re.sub(r"[\s\-().]", "", value)
        if digits_only.isdigit():  # written with its country code but no "+"
            try:
                candidate = phonenumbers.parse("+" + digits_only, None)
            except phonenumbers.NumberParseException:
                candidate = None
            if candidate is not None and phonenumbers.is_valid_number(candidate):
                number = candidate
    if number is None or not phonenumbers.is_valid_number(number):
        return "", _("%(value)s is not a valid phone number.") % {"value": value[:40]}
    digits = f"{number.country_code}{number.national_number}"
    if capabilities is not None and capabilities.recipient_prefix and not (
            digits.startswith(capabilities.recipient_prefix) and len(digits) == capabilities.recipient_length):
        return "", str(capabilities.recipient_rule)
    return digits, ""


# --- checking and storing -------------------------------------------------------------


class RowIngester:
    """Checks rows and stores them as recipients in batches; counts what it saw.

    Duplicates are found per batch: first within the batch, then against the
    rows already stored (one query on the (campaign, phone) unique index).
    Opt-outs come from the client's contacts' consent state, as the client's rule
    applies it to the template's category (one query per batch).
    """

    def __init__(self, *, campaign: Campaign, slots: list[Slot]) -> None:
        self.campaign = campaign
        self.checker = RowChecker(campaign.template, slots)
        self.fixed = {k: str(v) for k, v in (campaign.variables or {}).items()}
        self.slot_keys = [slot.key for slot in slots]
        self.capabilities = campaign.phone_number.client.provider_account.capabilities
        self.category = campaign.template.category
        self.batch_size = int(conf.setting("CAMPAIGN_BATCH_SIZE"))
        self.result = IngestResult()

    def ingest(self, rows: Iterable[RawRow]) -> IngestResult:
        batch: list[RawRow] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= self.batch_size:
                self._store(batch)
                batch = []
        if batch:
            self._store(batch)
        return self.result

    def _store(self, batch: list[RawRow]) -> None:
        rows: list[_Row] = []
        for raw in batch:
            values = {key: str(value) for key, value in raw.values.items() if key in self.slot_keys}
            digits, why = normalize_phone(raw.phone, region=self.campaign.default_country,
                                          capabilities=self.capabilities)
            row = _Row(raw.row_number, digits or raw.phone[:PHONE_MAX], values)
            if raw.problem:
                row.skip(raw.problem_reason or SkipReason.INVALID_VALUE, raw.problem)
            elif not digits:
                row.skip(SkipReason.BAD_NUMBER, why)
            else:
                problem = self.checker.problem({**self.fixed, **values})
                if problem is not None:
                    row.skip(problem.reason, problem.detail)
            rows.append(row)
        candidates = [row for row in rows if not row.reason]
        phones = [row.phone for row in candidates]
        stored = dict(
            CampaignRecipient.objects.filter(campaign_id=self.campaign.pk, skip_reason="", phone__in=phones)
            .values_list("phone", "row_number")
        )
        opted_out = opted_out_among(client_id=self.campaign.client_id, phones=phones,
                                    category=self.category)
        for row in candidates:
            first = stored.get(row.phone)
            if first is not None:
                row.skip(SkipReason.DUPLICATE, _("Same number as row %(row)d.") % {"row": first})
            elif row.phone in opted_out:
                row.skip(SkipReason.OPTED_OUT, _("This person asked not to receive messages."))
            else:
                stored[row.phone] = row.row_number
        for row in rows:
            self.result.rows += 1
            if row.reason:
                self.result.reasons[row.reason] += 1
            else:
                self.result.sendable += 1
        self._insert(rows)

    def _insert(self, rows: list[_Row]) -> None:
        """Multi-row INSERTs: ``bulk_create`` spends more building SQL than the database inserting."""
        variables = CampaignRecipient._meta.get_field("variables")
        table = CampaignRecipient._meta.db_table
        head = (f"INSERT INTO {table} (campaign_id, row_number, phone, variables, state, skip_reason, skip_detail, "
                f"attempts, claimed_by, error_code, error) VALUES ")
        one = "(%s, %s, %s, %s, %s, %s, %s, 0, '', '', '')"
        with connection.cursor() as cursor:
            for start in range(0, len(rows), INSERT_ROWS):
                part = rows[start:start + INSERT_ROWS]
                params: list = []
                for row in part:
                    params += [self.campaign.pk, row.row_number, row.phone,
                               variables.get_db_prep_save(row.values, connection),
                               RecipientState.SKIPPED if row.reason else RecipientState.PENDING, row.reason,
                               row.detail]
                cursor.execute(head + ", ".join([one] * len(part)), params)


class _Row:
    """A checked row on its way to the database (lighter than a model instance)."""

    __slots__ = ("row_number", "phone", "values", "reason", "detail")

    def __init__(self, row_number: int, phone: str, values: dict[str, str]) -> None:
        self.row_number, self.phone, self.values = row_number, phone, values
        self.reason, self.detail = "", ""

    def skip(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, str(detail)[:300]


def json_rows(recipients: Iterable[Mapping]) -> Iterator[RawRow]:
    """API recipients (``{"phone", "variables": {slot: value}}``) as rows numbered from 1."""
    for index, item in enumerate(recipients, start=1):
        variables = item.get("variables") or {}
        yield RawRow(
            row_number=index,
            phone=str(item.get("phone") or ""),
            values={str(k): "" if v is None else str(v) for k, v in variables.items()},
        )
