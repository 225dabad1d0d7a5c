"""The Spanish catalogue is complete and compiled, and a Spanish browser gets the portal in Spanish.

The .po is parsed here (no polib): every entry translated, none fuzzy, placeholders kept, and the committed
.mo saying the same as the .po (a forgotten ``compilemessages`` would ship English).
"""

from __future__ import annotations

import ast
import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.factories import ProviderAccountFactory, TemplateFactory
from tests.messaging.factories import aldeamo_number

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "es" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header included (msgid ""); obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None  # which string a continuation line extends
    flags: set[str] = set()

    def start(number: int) -> Entry:
        nonlocal current, flags
        if current is None:
            current = Entry(line=number, flags=flags)
            flags = set()
            entries.append(current)
        return current

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            current, target = None, None
            continue
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue  # comments, references, previous msgids (#|), obsolete entries (#~)
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = "", line
        text = ast.literal_eval(rest) if rest else ""
        if keyword == "":
            if current is None or target is None:
                raise AssertionError(f"{path}:{number}: a continuation line outside an entry")
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += text
            else:
                setattr(current, name, getattr(current, name) + text)
        elif keyword in ("msgctxt", "msgid", "msgid_plural"):
            if keyword in ("msgctxt", "msgid") and current is not None and current.msgstr:
                current = None  # a new entry without a blank line between
            entry = start(number)
            setattr(entry, keyword, text)
            target = (keyword, 0)
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            index = int(keyword[7:-1]) if keyword != "msgstr" else 0
            start(number).msgstr[index] = text
            target = ("msgstr", index)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    return entries


CATALOGUE = parse_po(PO)
HEADER = next(entry for entry in CATALOGUE if entry.msgid == "" and entry.msgctxt is None)
MESSAGES = [entry for entry in CATALOGUE if entry is not HEADER]
PLACEHOLDER = {
    "python-format": re.compile(r"%(?:\([A-Za-z_]\w*\))?[-#0 +]*\d*(?:\.\d+)?[sdifrx%]"),
    "python-brace-format": re.compile(r"\{[^{}]*\}"),
}
TAG = re.compile(r"</?[a-z][^>]*>")


def placeholders(entry: Entry, text: str) -> Counter:
    found: Counter = Counter(TAG.findall(text))
    for flag, pattern in PLACEHOLDER.items():
        if flag in entry.flags:
            found.update(p for p in pattern.findall(text) if p != "%%")
    return found


def test_the_catalogue_is_a_real_spanish_catalogue():
    assert len(MESSAGES) > 900  # the whole portal, not an empty shell
    assert "fuzzy" not in HEADER.flags, "a fuzzy header is dropped by compilemessages (and its Plural-Forms)"
    header = HEADER.msgstr[0]
    assert "Language: es\n" in header
    assert "Plural-Forms: nplurals=" in header


def test_every_entry_is_translated_and_none_is_fuzzy():
    untranslated = [e.label for e in MESSAGES if not e.msgstr or any(not text.strip() for text in e.msgstr.values())]
    fuzzy = [e.label for e in MESSAGES if "fuzzy" in e.flags]
    assert not untranslated, "Translate these (make messages, then fill locale/es):\n" + "\n".join(untranslated)
    assert not fuzzy, "Check these fuzzy translations and drop the flag:\n" + "\n".join(fuzzy)


def test_plural_entries_have_every_form():
    nplurals = int(re.search(r"nplurals=(\d+)", HEADER.msgstr[0]).group(1))
    plurals = [e for e in MESSAGES if e.msgid_plural is not None]
    assert plurals
    for entry in plurals:
        assert sorted(entry.msgstr) == list(range(nplurals)), entry.label


def test_translations_keep_their_placeholders_and_tags():
    wrong = []
    for entry in MESSAGES:
        if entry.msgid_plural is None:
            if placeholders(entry, entry.msgstr[0]) != placeholders(entry, entry.msgid):
                wrong.append(entry.label)
            continue
        plural = placeholders(entry, entry.msgid_plural)
        for index, text in entry.msgstr.items():
            found = placeholders(entry, text)
            # The singular may leave the count out ("one message"), never invent a placeholder.
            if (found - plural) if index == 0 else (found != plural):
                wrong.append(f"{entry.label} msgstr[{index}]")
    assert not wrong, "Placeholders or tags differ from the English:\n" + "\n".join(wrong)


def test_the_compiled_catalogue_says_what_the_po_says():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in MESSAGES:
        if entry.msgid_plural is None:
            got = (compiled.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt is not None
                   else compiled.gettext(entry.msgid))
            if got != entry.msgstr[0]:
                stale.append(entry.label)
            continue
        for n in (1, 2, 5, 1_000_000):
            expected = entry.msgstr[compiled.plural(n)]
            got = (compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                   if entry.msgctxt is not None else compiled.ngettext(entry.msgid, entry.msgid_plural, n))
            if got != expected:
                stale.append(f"{entry.label} (n={n})")
    assert not stale, "django.mo is out of date: run `make messages` (compilemessages):\n" + "\n".join(stale)


# --- what a Spanish browser sees ------------------------------------------------------------------------


@pytest.fixture
def operator(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.django_db
def test_a_spanish_browser_gets_the_admin_in_spanish(operator):
    home = operator.get("/admin/", headers={"accept-language": "es"}).content.decode()
    assert 'lang="es"' in home
    for words in ("Cuentas y números", "Cuentas de proveedor", "Mensajería", "Plantillas", "Analítica"):
        assert words in home, words
    assert "Accounts and numbers" not in home

    account = ProviderAccountFactory()
    page = operator.get(f"/admin/accounts/provideraccount/{account.pk}/change/",
                        headers={"accept-language": "es"}).content.decode()
    for words in ("Probar conexión", "Sincronizar ahora", "Copiar", "Entorno", "Sin definir."):
        assert words in page, words
    assert "Test connection" not in page and "Sync now" not in page

    accounts = operator.get("/admin/accounts/provideraccount/", headers={"accept-language": "es"}).content.decode()
    assert "Añadir cuenta de proveedor" in accounts
    # Django 6.1's own Spanish leaves these out; waportal/i18n_gaps.py fills them in.
    assert "- Seleccione una opción -" in accounts and ">Ejecutar<" in accounts and "Buscar cuentas" in accounts

    messages = operator.get("/admin/messaging/message/", headers={"accept-language": "es"}).content.decode()
    assert "Redactar un mensaje" in messages


@pytest.mark.django_db
def test_the_composer_gives_its_script_spanish_words(operator):
    html = operator.get("/admin/messaging/message/compose/", headers={"accept-language": "es"}).content.decode()
    assert 'data-empty-label="Su mensaje aparece aquí."' in html
    assert 'data-media-image="Imagen"' in html and 'data-view-items-label="Ver artículos"' in html


@pytest.mark.django_db
def test_the_campaign_pages_and_their_script_get_spanish_words(operator, superuser):
    from campaigns import services

    es = {"accept-language": "es"}
    number = aldeamo_number()
    template = TemplateFactory(waba=number.waba, components=[{"type": "BODY", "text": "Hola {{1}}"}])
    add = operator.get("/admin/campaigns/campaign/add/", headers=es).content.decode()
    for words in ("Nueva campaña", "Número remitente", "Velocidad (mensajes por segundo)", "Destinatarios (CSV)",
                  "Siguiente: asignar las columnas"):
        assert words in add, words
    assert "Next: match the columns" not in add

    campaign = services.campaign_create_with_recipients(
        actor=superuser, phone_number=number, template=template, name="Citas", pace=20,
        recipients=[{"phone": "573000000001", "variables": {"body_1": "Ana"}}],
    )
    report = operator.get(f"/admin/campaigns/campaign/{campaign.pk}/report/", headers=es).content.decode()
    assert "Iniciar el envío a 1 destinatario" in report and ">Se enviarán<" in report
    services.campaign_start(actor=superuser, campaign=campaign)
    page = operator.get(f"/admin/campaigns/campaign/{campaign.pk}/change/", headers=es).content.decode()
    # A campaign is "una campaña" (status in the feminine); the bar counts recipients (plural).
    assert ">Enviando</span>" in page and "En cola" in page and "Cancelados" in page
    assert 'data-empty="Sin fallos."' in page and "Cancelar campaña" in page
    # What the page's script writes comes from the progress endpoint, in the browser's language.
    progress = operator.get(f"/admin/campaigns/campaign/{campaign.pk}/progress/", headers=es).json()
    assert progress["status_label"] == "Enviando" and progress["labels"]["sent"] == "Enviados"


@pytest.mark.django_db
def test_an_english_browser_still_gets_english(operator):
    account = ProviderAccountFactory()
    page = operator.get(f"/admin/accounts/provideraccount/{account.pk}/change/",
                        headers={"accept-language": "en"}).content.decode()
    assert 'lang="en"' in page
    assert "Test connection" in page and "Sync now" in page
    assert "Probar conexión" not in page
