"""WhatsApp's template rules, checked before a template leaves for the provider.

Template errors (wrong variable count, a media header without its example, a
name with capitals, a label one character too long) are the most common
reason WhatsApp refuses a template, and its refusal arrives late and in
Meta's words. These checks run first, in the builder and in the API, and
every :class:`Problem` names the input at fault (``field``, a path a form or
an API client can use: ``name``, ``header.text``, ``buttons[2].url`` …) and
says what to fix.

Components are in Aldeamo's ``createTemplate`` format (Meta's format):
``{"type": "HEADER"|"BODY"|"FOOTER"|"BUTTONS", ...}``. Types are read without
regard to case, as Meta reads them, so a listing synced from the provider
can be checked as it is stored.

Pure: no database, no network. Messages go through gettext at call time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import phonenumbers
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

NAME_MAX = 512
HEADER_TEXT_MAX = 60
HEADER_VARIABLES_MAX = 1
BODY_MAX = 1024
FOOTER_MAX = 60
BUTTON_TEXT_MAX = 25
BUTTONS_MAX = 10
URL_BUTTONS_MAX = 2
PHONE_BUTTONS_MAX = 1
URL_MAX = 2000
PHONE_MAX = 20

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
# Meta's categories before its 2023 reform. The seed's own createTemplate
# example uses ISSUE_RESOLUTION and its getTemplates example ACCOUNT_UPDATE, so
# clients written against Aldeamo's manual send them; Meta still accepts them
# and re-files the template under one of the three current categories (a
# ``template_category_update`` event follows). The builder offers only the
# current three.
LEGACY_CATEGORIES = (
    "ACCOUNT_UPDATE",
    "ALERT_UPDATE",
    "APPOINTMENT_UPDATE",
    "AUTO_REPLY",
    "ISSUE_RESOLUTION",
    "PAYMENT_UPDATE",
    "PERSONAL_FINANCE_UPDATE",
    "RESERVATION_UPDATE",
    "SHIPPING_UPDATE",
    "TICKET_UPDATE",
    "TRANSACTIONAL",
    "OTP",
)

# The languages WhatsApp accepts for templates (Meta's "Supported languages").
# A list rather than a pattern: ``es_CO`` or ``en-US`` look right and are
# refused by WhatsApp, which is exactly the mistake worth catching here.
WHATSAPP_LANGUAGES: dict[str, Promise] = {
    "af": gettext_lazy("Afrikaans"),
    "sq": gettext_lazy("Albanian"),
    "ar": gettext_lazy("Arabic"),
    "az": gettext_lazy("Azerbaijani"),
    "bn": gettext_lazy("Bengali"),
    "bg": gettext_lazy("Bulgarian"),
    "ca": gettext_lazy("Catalan"),
    "zh_CN": gettext_lazy("Chinese (China)"),
    "zh_HK": gettext_lazy("Chinese (Hong Kong)"),
    "zh_TW": gettext_lazy("Chinese (Taiwan)"),
    "hr": gettext_lazy("Croatian"),
    "cs": gettext_lazy("Czech"),
    "da": gettext_lazy("Danish"),
    "nl": gettext_lazy("Dutch"),
    "en": gettext_lazy("English"),
    "en_GB": gettext_lazy("English (UK)"),
    "en_US": gettext_lazy("English (US)"),
    "et": gettext_lazy("Estonian"),
    "fil": gettext_lazy("Filipino"),
    "fi": gettext_lazy("Finnish"),
    "fr": gettext_lazy("French"),
    "ka": gettext_lazy("Georgian"),
    "de": gettext_lazy("German"),
    "el": gettext_lazy("Greek"),
    "gu": gettext_lazy("Gujarati"),
    "ha": gettext_lazy("Hausa"),
    "he": gettext_lazy("Hebrew"),
    "hi": gettext_lazy("Hindi"),
    "hu": gettext_lazy("Hungarian"),
    "id": gettext_lazy("Indonesian"),
    "ga": gettext_lazy("Irish"),
    "it": gettext_lazy("Italian"),
    "ja": gettext_lazy("Japanese"),
    "kn": gettext_lazy("Kannada"),
    "kk": gettext_lazy("Kazakh"),
    "rw_RW": gettext_lazy("Kinyarwanda"),
    "ko": gettext_lazy("Korean"),
    "ky_KG": gettext_lazy("Kyrgyz"),
    "lo": gettext_lazy("Lao"),
    "lv": gettext_lazy("Latvian"),
    "lt": gettext_lazy("Lithuanian"),
    "mk": gettext_lazy("Macedonian"),
    "ms": gettext_lazy("Malay"),
    "ml": gettext_lazy("Malayalam"),
    "mr": gettext_lazy("Marathi"),
    "nb": gettext_lazy("Norwegian"),
    "fa": gettext_lazy("Persian"),
    "pl": gettext_lazy("Polish"),
    "pt_BR": gettext_lazy("Portuguese (Brazil)"),
    "pt_PT": gettext_lazy("Portuguese (Portugal)"),
    "pa": gettext_lazy("Punjabi"),
    "ro": gettext_lazy("Romanian"),
    "ru": gettext_lazy("Russian"),
    "sr": gettext_lazy("Serbian"),
    "sk": gettext_lazy("Slovak"),
    "sl": gettext_lazy("Slovenian"),
    "es": gettext_lazy("Spanish"),
    "es_AR": gettext_lazy("Spanish (Argentina)"),
    "es_ES": gettext_lazy("Spanish (Spain)"),
    "es_MX": gettext_lazy("Spanish (Mexico)"),
    "sw": gettext_lazy("Swahili"),
    "sv": gettext_lazy("Swedish"),
    "ta": gettext_lazy("Tamil"),
    "te": gettext_lazy("Telugu"),
    "th": gettext_lazy("Thai"),
    "tr": gettext_lazy("Turkish"),
    "uk": gettext_lazy("Ukrainian"),
    "ur": gettext_lazy("Urdu"),
    "uz": gettext_lazy("Uzbek"),
    "vi": gettext_lazy("Vietnamese"),
    "zu": gettext_lazy("Zulu"),
}

COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")
TEXT_FORMAT = "TEXT"
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
HEADER_FORMATS = (TEXT_FORMAT, *MEDIA_FORMATS)
QUICK_REPLY = "QUICK_REPLY"
URL = "URL"
PHONE_NUMBER = "PHONE_NUMBER"
BUTTON_TYPES = (QUICK_REPLY, URL, PHONE_NUMBER)

# Matched with fullmatch, as HTTP_URL_RE is: "$" would let a trailing newline through.
NAME_RE = re.compile(r"[a-z0-9_]+")
# Anything between double braces: a well-formed variable or a mistake to name.
BRACES_RE = re.compile(r"\{\{(.*?)\}\}")
VARIABLE_RE = re.compile(r"\{\{([1-9][0-9]*)\}\}")
ADJACENT_RE = re.compile(r"\{\{[0-9]+\}\}\s*\{\{[0-9]+\}\}")
# A web address with a dotted host and no spaces: what WhatsApp opens from a button or fetches as a sample.
HTTP_URL_RE = re.compile(r"https?://[^\s/?#@]+\.[^\s/?#@]+([/?#]\S*)?", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One broken rule: the input at fault (``field``) and what to do about it."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# --- variables ------------------------------------------------------------------


def placeholders(text: str | None) -> list[int]:
    """The numbers of the ``{{n}}`` variables in ``text``, in order of appearance, repeats included."""
    return [int(match) for match in VARIABLE_RE.findall(text or "")]


def count_variables(text: str | None) -> int:
    """How many distinct variables ``text`` has (``{{1}} … {{1}}`` is one variable)."""
    return len(set(placeholders(text)))


def malformed_placeholders(text: str | None) -> list[str]:
    """Double-brace expressions that are not a variable WhatsApp understands (``{{name}}``, ``{{ 1 }}``, ``{{0}}``)."""
    return [match.group(0) for match in BRACES_RE.finditer(text or "") if not VARIABLE_RE.fullmatch(match.group(0))]


def _numbering_problem(numbers: list[int], field: str) -> Problem | None:
    """Variables must be 1..n, each first seen after the one before it, with no gaps."""
    first_seen: list[int] = []
    for number in numbers:
        if number not in first_seen:
            first_seen.append(number)
    expected = list(range(1, len(first_seen) + 1))
    if first_seen == expected:
        return None
    if sorted(first_seen) == expected:
        return Problem(field, _("Number the variables in the order they appear: the first one is {{1}}, the next "
                                "{{2}}, and so on (found %(found)s).") % {"found": _variables_list(first_seen)})
    missing = [n for n in range(1, max(first_seen) + 1) if n not in first_seen]
    return Problem(field, _("Variables must be numbered from {{1}} without gaps: %(missing)s is missing.")
                   % {"missing": _variables_list(missing)})


def _variables_list(numbers: Iterable[int]) -> str:
    return ", ".join(f"{{{{{n}}}}}" for n in numbers)


def _nonempty_strings(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) and v.strip() for v in values)


# --- the rules --------------------------------------------------------------------


def template_problems(*, name: str, language: str, category: str, components: Any) -> list[Problem]:
    """Every WhatsApp rule this template breaks, in the order a person reads the form.

    An empty list means the template may be sent to the provider.
    """
    problems: list[Problem] = []
    problems += _name_problems(name)
    problems += _language_problems(language)
    problems += _category_problems(category)
    problems += components_problems(components)
    return problems


def _name_problems(name: Any) -> list[Problem]:
    if not isinstance(name, str) or not name:
        return [Problem("name", _("Give the template a name, e.g. order_shipped."))]
    problems = []
    if len(name) > NAME_MAX:
        problems.append(Problem("name", _("The name is %(length)d characters long; the limit is %(max)d.")
                                % {"length": len(name), "max": NAME_MAX}))
    if not NAME_RE.fullmatch(name):
        plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        suggestion = re.sub(r"[^a-z0-9_]+", "_", plain.strip().lower()).strip("_")
        message = _("Use only lowercase letters, digits and underscores in the name (no spaces, capitals or accents).")
        if suggestion and suggestion != name:
            message += " " + _("For example: %(suggestion)s") % {"suggestion": suggestion[:NAME_MAX]}
        problems.append(Problem("name", message))
    return problems


def _language_problems(language: Any) -> list[Problem]:
    if not isinstance(language, str) or not language:
        return [Problem("language", _("Choose the template's language, e.g. es, en_US or pt_BR."))]
    if language in WHATSAPP_LANGUAGES:
        return []
    fixed = language.replace("-", "_")
    if "_" in fixed:
        base, region = fixed.split("_", 1)
        fixed = f"{base.lower()}_{region.upper()}"
    else:
        fixed = fixed.lower()
    if fixed in WHATSAPP_LANGUAGES:
        return [Problem("language", _("Write the language as WhatsApp does: %(code)s.") % {"code": fixed})]
    base = fixed.split("_", 1)[0]
    if base in WHATSAPP_LANGUAGES:
        return [Problem("language", _("WhatsApp has no %(language)s variant; use %(code)s.")
                        % {"language": language, "code": base})]
    return [Problem("language", _("%(language)s is not a language WhatsApp accepts for templates; use a code such "
                                  "as es, en_US or pt_BR.") % {"language": language})]


def _category_problems(category: Any) -> list[Problem]:
    if isinstance(category, str) and (category in CATEGORIES or category in LEGACY_CATEGORIES):
        return []
    return [Problem("category", _("Choose a category: MARKETING, UTILITY or AUTHENTICATION."))]


def components_problems(components: Any) -> list[Problem]:
    """The rules on the components alone (header, body, footer, buttons)."""
    if not isinstance(components, list) or not all(isinstance(c, Mapping) for c in components):
        return [Problem("components", _("Components must be a list of objects, each with a type."))]
    problems: list[Problem] = []
    by_type: dict[str, Mapping[str, Any]] = {}
    for component in components:
        kind = str(component.get("type") or "").upper()
        if kind not in COMPONENT_TYPES:
            problems.append(Problem("components", _("Unknown component type %(type)s: use HEADER, BODY, FOOTER or "
                                                    "BUTTONS.") % {"type": component.get("type") or "—"}))
        elif kind in by_type:
            problems.append(Problem("components", _("A template has at most one %(type)s.") % {"type": kind}))
        else:
            by_type[kind] = component
    if "HEADER" in by_type:
        problems += _header_problems(by_type["HEADER"])
    if "BODY" in by_type:
        problems += _body_problems(by_type["BODY"])
    else:
        problems.append(Problem("body.text", _("Write the body: every template has one.")))
    if "FOOTER" in by_type:
        problems += _footer_problems(by_type["FOOTER"])
    if "BUTTONS" in by_type:
        problems += _buttons_problems(by_type["BUTTONS"])
    return problems


def _example_of(component: Mapping[str, Any], key: str) -> Any:
    example = component.get("example")
    return example.get(key) if isinstance(example, Mapping) else None


def _header_problems(header: Mapping[str, Any]) -> list[Problem]:
    fmt = str(header.get("format") or "").upper()
    if fmt not in HEADER_FORMATS:
        return [Problem("header.format", _("Choose the header's format: TEXT, IMAGE, VIDEO or DOCUMENT."))]
    if fmt in MEDIA_FORMATS:
        handles = _example_of(header, "header_handle")
        if not _nonempty_strings(handles) or not handles:
            return [Problem("header.example", _("A media header needs an example: give a link to a sample file."))]
        if not HTTP_URL_RE.fullmatch(handles[0].strip()):
            return [Problem("header.example", _("The header's example must be a link starting with https:// "
                                                "(a sample of the %(format)s).") % {"format": fmt.lower()})]
        return []
    text = header.get("text")
    if not isinstance(text, str) or not text.strip():
        return [Problem("header.text", _("Write the header's text, or choose no header."))]
    problems = []
    if len(text) > HEADER_TEXT_MAX:
        problems.append(Problem("header.text", _("The header is %(length)d characters long; the limit is %(max)d.")
                                % {"length": len(text), "max": HEADER_TEXT_MAX}))
    if "\n" in text:
        problems.append(Problem("header.text", _("The header must be a single line.")))
    problems += _malformed(text, "header.text")
    numbers = placeholders(text)
    variables = len(set(numbers))
    if variables > HEADER_VARIABLES_MAX or len(numbers) > HEADER_VARIABLES_MAX:
        problems.append(Problem("header.text", _("The header may have at most one variable, {{1}}.")))
        return problems
    numbering = _numbering_problem(numbers, "header.text")
    if numbering:
        problems.append(numbering)
        return problems
    examples = _example_of(header, "header_text")
    examples = examples if examples is not None else []
    if variables and (not isinstance(examples, list) or len(examples) != variables):
        problems.append(Problem("header.example", _("Give an example of the header's variable {{1}}.")))
    elif variables and not _nonempty_strings(examples):
        problems.append(Problem("header.example", _("The example of the header's variable {{1}} is empty.")))
    elif not variables and examples:
        problems.append(Problem("header.example", _("The header has no variable: remove its example.")))
    return problems


def _malformed(text: str, field: str) -> list[Problem]:
    wrong = malformed_placeholders(text)
    if not wrong:
        return []
    return [Problem(field, _("%(found)s is not a variable: write variables as {{1}}, {{2}}, … (digits only, no "
                             "spaces).") % {"found": ", ".join(wrong)})]


def _body_problems(body: Mapping[str, Any]) -> list[Problem]:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return [Problem("body.text", _("Write the body: every template has one."))]
    problems = []
    if len(text) > BODY_MAX:
        problems.append(Problem("body.text", _("The body is %(length)d characters long; the limit is %(max)d.")
                                % {"length": len(text), "max": BODY_MAX}))
    problems += _malformed(text, "body.text")
    numbers = placeholders(text)
    if not numbers:
        examples = _example_of(body, "body_text")
        if isinstance(examples, list) and any(row for row in examples):
            problems.append(Problem("body.example", _("The body has no variables: remove its examples.")))
        return problems
    stripped = text.strip()
    if VARIABLE_RE.match(stripped):
        problems.append(Problem("body.text", _("The body can't start with a variable: put some words before it.")))
    if re.search(r"\{\{[0-9]+\}\}$", stripped):
        problems.append(Problem("body.text", _("The body can't end with a variable: put some words or a full stop "
                                               "after it.")))
    if ADJACENT_RE.search(text):
        problems.append(Problem("body.text", _("Two variables can't be side by side: put some words between them.")))
    numbering = _numbering_problem(numbers, "body.text")
    if numbering:
        problems.append(numbering)
        return problems
    problems += _body_example_problems(body, len(set(numbers)))
    return problems


def _body_example_problems(body: Mapping[str, Any], variables: int) -> list[Problem]:
    examples = _example_of(body, "body_text")
    row = examples[0] if isinstance(examples, list) and examples and isinstance(examples[0], list) else None
    if row is None:
        return [Problem("body.example", _("Give an example for each of the body's %(count)d variables.")
                        % {"count": variables})]
    problems = []
    if len(row) != variables:
        problems.append(Problem("body.example", _("The body has %(count)d variables and %(given)d examples: give "
                                                  "exactly one example per variable.")
                                % {"count": variables, "given": len(row)}))
    for index, value in enumerate(row[:variables]):
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(f"body.example[{index}]", _("Give an example for {{%(number)d}}.")
                                    % {"number": index + 1}))
    return problems


def _footer_problems(footer: Mapping[str, Any]) -> list[Problem]:
    text = footer.get("text")
    if not isinstance(text, str) or not text.strip():
        return [Problem("footer.text", _("Write the footer's text, or leave the footer out."))]
    problems = []
    if len(text) > FOOTER_MAX:
        problems.append(Problem("footer.text", _("The footer is %(length)d characters long; the limit is %(max)d.")
                                % {"length": len(text), "max": FOOTER_MAX}))
    if "{{" in text or "}}" in text:
        problems.append(Problem("footer.text", _("The footer can't have variables.")))
    return problems


def _buttons_problems(component: Mapping[str, Any]) -> list[Problem]:
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        return [Problem("buttons", _("Add at least one button, or leave the buttons out."))]
    if not all(isinstance(b, Mapping) for b in buttons):
        return [Problem("buttons", _("Each button must be an object with a type and a label."))]
    problems: list[Problem] = []
    if len(buttons) > BUTTONS_MAX:
        problems.append(Problem("buttons", _("A template has at most %(max)d buttons; this one has %(count)d.")
                                % {"max": BUTTONS_MAX, "count": len(buttons)}))
    kinds = [str(b.get("type") or "").upper() for b in buttons]
    if kinds.count(URL) > URL_BUTTONS_MAX:
        problems.append(Problem("buttons", _("A template has at most %(max)d URL buttons.") % {"max": URL_BUTTONS_MAX}))
    if kinds.count(PHONE_NUMBER) > PHONE_BUTTONS_MAX:
        problems.append(Problem("buttons", _("A template has at most one phone number button.")))
    groups = [kind == QUICK_REPLY for kind in kinds if kind in BUTTON_TYPES]
    changes = sum(1 for a, b in zip(groups, groups[1:], strict=False) if a != b)
    if changes > 1:
        problems.append(Problem("buttons", _("Keep the quick replies together: put them all before or all after the "
                                             "URL and phone buttons.")))
    for index, button in enumerate(buttons):
        problems += _button_problems(index, kinds[index], button)
    return problems


def _button_problems(index: int, kind: str, button: Mapping[str, Any]) -> list[Problem]:
    path = f"buttons[{index}]"
    if kind not in BUTTON_TYPES:
        return [Problem(f"{path}.type", _("Choose the button's type: quick reply, URL or phone number."))]
    problems = []
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(Problem(f"{path}.text", _("Write the button's label.")))
    else:
        if len(text) > BUTTON_TEXT_MAX:
            problems.append(Problem(f"{path}.text", _("The label is %(length)d characters long; the limit is "
                                                      "%(max)d.") % {"length": len(text), "max": BUTTON_TEXT_MAX}))
        if "{{" in text:
            problems.append(Problem(f"{path}.text", _("Button labels can't have variables.")))
    if kind == URL:
        problems += _url_button_problems(path, button)
    elif kind == PHONE_NUMBER:
        problems += _phone_button_problems(path, button)
    return problems


def _url_button_problems(path: str, button: Mapping[str, Any]) -> list[Problem]:
    url = button.get("url")
    if not isinstance(url, str) or not url.strip():
        return [Problem(f"{path}.url", _("Write the address the button opens, starting with https://."))]
    if len(url) > URL_MAX:
        return [Problem(f"{path}.url", _("The address is too long (at most %(max)d characters).") % {"max": URL_MAX})]
    numbers = placeholders(url)
    if malformed_placeholders(url) or "{{" in VARIABLE_RE.sub("", url):
        return [Problem(f"{path}.url", _("Write the address's variable as {{1}}."))]
    if not HTTP_URL_RE.fullmatch(VARIABLE_RE.sub("x", url)):
        return [Problem(f"{path}.url", _("The address must start with https:// (or http://), name a site such as "
                                         "example.com, and have no spaces."))]
    if not numbers:
        return []
    if numbers != [1] or not url.endswith("{{1}}"):
        return [Problem(f"{path}.url", _("An address may have one variable, {{1}}, and only at its very end, e.g. "
                                         "https://example.com/orders/{{1}}."))]
    example = button.get("example")
    if not _nonempty_strings(example) or not example:
        return [Problem(f"{path}.example", _("Give an example of the address's end that replaces {{1}}."))]
    return []


def _phone_button_problems(path: str, button: Mapping[str, Any]) -> list[Problem]:
    number = button.get("phone_number")
    if not isinstance(number, str) or not number.strip():
        return [Problem(f"{path}.phone_number", _("Write the phone number the button calls, e.g. +57 300 123 4567."))]
    message = _("Write the phone number in international format, with + and the country code, e.g. +57 300 123 4567.")
    if len(number) > PHONE_MAX or not number.strip().startswith("+"):
        return [Problem(f"{path}.phone_number", message)]
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return [Problem(f"{path}.phone_number", message)]
    if not phonenumbers.is_valid_number(parsed):
        return [Problem(f"{path}.phone_number", _("%(number)s is not a valid phone number; check the country code and "
                                                  "the digits.") % {"number": number})]
    return []
