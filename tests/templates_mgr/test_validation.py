"""WhatsApp's template rules: each accepted at its limit and refused past it, with the field at fault."""

import copy
import json
from pathlib import Path

import pytest
from django.utils import translation

from templates_mgr.validation import (
    LEGACY_CATEGORIES,
    Problem,
    count_variables,
    placeholders,
    template_problems,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aldeamo"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def body(text: str, examples: list[str] | None = None) -> dict:
    component = {"type": "BODY", "text": text}
    if examples is None:
        examples = [f"example {n}" for n in range(1, count_variables(text) + 1)]
    if examples:
        component["example"] = {"body_text": [examples]}
    return component


def header(text: str, examples: list[str] | None = None) -> dict:
    component = {"type": "HEADER", "format": "TEXT", "text": text}
    if examples is None:
        examples = ["A-1"] * count_variables(text)
    if examples:
        component["example"] = {"header_text": examples}
    return component


def buttons(*items: dict) -> dict:
    return {"type": "BUTTONS", "buttons": list(items)}


def qr(text: str = "Yes") -> dict:
    return {"type": "QUICK_REPLY", "text": text}


def url(url: str = "https://example.com/help", text: str = "Help", example: list[str] | None = None) -> dict:
    button = {"type": "URL", "text": text, "url": url}
    if example is not None:
        button["example"] = example
    return button


def phone(number: str = "+57 300 123 4567", text: str = "Call us") -> dict:
    return {"type": "PHONE_NUMBER", "text": text, "phone_number": number}


BODY = body("Hello {{1}}, your order ships on {{2}}.")


def problems(components: list[dict] | None = None, **top) -> list[Problem]:
    values = {"name": "order_shipped", "language": "es", "category": "UTILITY",
              "components": [BODY] if components is None else components}
    values.update(top)
    return template_problems(**values)


def fields(found: list[Problem]) -> set[str]:
    return {problem.field for problem in found}


# (what, accepted, refused, field): ``accepted``/``refused`` are keyword arguments for ``problems``.
LIMITS = [
    ("name length", {"name": "a" * 512}, {"name": "a" * 513}, "name"),
    ("name characters", {"name": "order_shipped_2"}, {"name": "Order shipped"}, "name"),
    ("name accents", {"name": "pedido_enviado"}, {"name": "pedido_envíado"}, "name"),
    ("name hyphen", {"name": "pedido_1"}, {"name": "pedido-1"}, "name"),
    ("name empty", {"name": "x"}, {"name": ""}, "name"),
    ("name newline", {"name": "order"}, {"name": "order\n"}, "name"),
    ("language code", {"language": "en_US"}, {"language": "en-US"}, "language"),
    ("language region", {"language": "es_MX"}, {"language": "es_CO"}, "language"),
    ("language unknown", {"language": "pt_BR"}, {"language": "xx"}, "language"),
    ("language empty", {"language": "es"}, {"language": ""}, "language"),
    ("category", {"category": "MARKETING"}, {"category": "PROMOTION"}, "category"),
    ("category empty", {"category": "AUTHENTICATION"}, {"category": ""}, "category"),
    ("legacy category", {"category": "ISSUE_RESOLUTION"}, {"category": "issue_resolution"}, "category"),
    ("header length", {"components": [header("h" * 60), BODY]}, {"components": [header("h" * 61), BODY]},
     "header.text"),
    ("header variables", {"components": [header("Order {{1}} ready"), BODY]},
     {"components": [header("Order {{1}} for {{2}}"), BODY]}, "header.text"),
    ("header variable used twice", {"components": [header("Order {{1}}"), BODY]},
     {"components": [header("Order {{1}} {{1}}"), BODY]}, "header.text"),
    ("header variable number", {"components": [header("Order {{1}}"), BODY]},
     {"components": [header("Order {{2}}", ["x"]), BODY]}, "header.text"),
    ("header one line", {"components": [header("Order shipped"), BODY]},
     {"components": [header("Order\nshipped"), BODY]}, "header.text"),
    ("header empty", {"components": [header("Hi"), BODY]}, {"components": [header(" "), BODY]}, "header.text"),
    ("header example given", {"components": [header("Order {{1}}", ["A-1"]), BODY]},
     {"components": [header("Order {{1}}", []), BODY]}, "header.example"),
    ("header example empty", {"components": [header("Order {{1}}", ["A-1"]), BODY]},
     {"components": [header("Order {{1}}", [" "]), BODY]}, "header.example"),
    ("header example without variable", {"components": [header("Order", []), BODY]},
     {"components": [header("Order", ["A-1"]), BODY]}, "header.example"),
    ("header format", {"components": [header("Order"), BODY]},
     {"components": [{"type": "HEADER", "text": "Order"}, BODY]}, "header.format"),
    ("header format unknown", {"components": [header("Order"), BODY]},
     {"components": [{"type": "HEADER", "format": "LOCATION"}, BODY]}, "header.format"),
    ("body length", {"components": [body("b" * 1024)]}, {"components": [body("b" * 1025)]}, "body.text"),
    ("body with variables at its limit", {"components": [body("a {{1}} " + "b" * 1016)]},
     {"components": [body("a {{1}} " + "b" * 1017)]}, "body.text"),
    ("body present", {"components": [BODY]}, {"components": [header("Order")]}, "body.text"),
    ("body text", {"components": [BODY]}, {"components": [body("   ")]}, "body.text"),
    ("variables in order", {"components": [body("Hi {{1}}, see {{2}}.")]},
     {"components": [body("Hi {{2}}, see {{1}}.", ["a", "b"])]}, "body.text"),
    ("variables without gaps", {"components": [body("Hi {{1}}, see {{2}}.")]},
     {"components": [body("Hi {{1}}, see {{3}}.", ["a", "b"])]}, "body.text"),
    ("variables from one", {"components": [body("Hi {{1}}.")]},
     {"components": [body("Hi {{0}}.", [])]}, "body.text"),
    ("variable syntax", {"components": [body("Hi {{1}}.")]},
     {"components": [body("Hi {{name}}.", [])]}, "body.text"),
    ("variable spaces", {"components": [body("Hi {{1}}.")]},
     {"components": [body("Hi {{ 1 }}.", [])]}, "body.text"),
    ("variable not at start", {"components": [body("Hi {{1}} there")]},
     {"components": [body("{{1}} there")]}, "body.text"),
    ("variable not at start after spaces", {"components": [body("Hi {{1}} there")]},
     {"components": [body("  {{1}} there")]}, "body.text"),
    ("variable not at end", {"components": [body("Hi {{1}}.")]},
     {"components": [body("Hi {{1}}")]}, "body.text"),
    ("variables not adjacent", {"components": [body("Hi {{1}}, {{2}}.")]},
     {"components": [body("Hi {{1}}{{2}}.")]}, "body.text"),
    ("variables not separated by spaces only", {"components": [body("Hi {{1}} and {{2}}.")]},
     {"components": [body("Hi {{1}} \n {{2}}.")]}, "body.text"),
    ("one example per variable", {"components": [body("Hi {{1}}, {{2}}.", ["a", "b"])]},
     {"components": [body("Hi {{1}}, {{2}}.", ["a"])]}, "body.example"),
    ("no extra examples", {"components": [body("Hi {{1}}, {{2}}.", ["a", "b"])]},
     {"components": [body("Hi {{1}}, {{2}}.", ["a", "b", "c"])]}, "body.example"),
    ("examples present", {"components": [body("Hi {{1}}.", ["a"])]},
     {"components": [{"type": "BODY", "text": "Hi {{1}}."}]}, "body.example"),
    ("example not empty", {"components": [body("Hi {{1}}, {{2}}.", ["a", "b"])]},
     {"components": [body("Hi {{1}}, {{2}}.", ["a", ""])]}, "body.example[1]"),
    ("no examples without variables", {"components": [body("Hi.", [])]},
     {"components": [{"type": "BODY", "text": "Hi.", "example": {"body_text": [["a"]]}}]}, "body.example"),
    ("one body", {"components": [BODY]}, {"components": [BODY, BODY]}, "components"),
    ("known component types", {"components": [BODY]}, {"components": [BODY, {"type": "CAROUSEL"}]}, "components"),
    ("components a list", {"components": [BODY]}, {"components": {"type": "BODY"}}, "components"),
    ("footer length", {"components": [BODY, {"type": "FOOTER", "text": "f" * 60}]},
     {"components": [BODY, {"type": "FOOTER", "text": "f" * 61}]}, "footer.text"),
    ("footer without variables", {"components": [BODY, {"type": "FOOTER", "text": "Reply STOP"}]},
     {"components": [BODY, {"type": "FOOTER", "text": "Bye {{1}}"}]}, "footer.text"),
    ("footer text", {"components": [BODY, {"type": "FOOTER", "text": "x"}]},
     {"components": [BODY, {"type": "FOOTER", "text": ""}]}, "footer.text"),
    ("button label", {"components": [BODY, buttons(qr("l" * 25))]},
     {"components": [BODY, buttons(qr("l" * 26))]}, "buttons[0].text"),
    ("button label present", {"components": [BODY, buttons(qr("Yes"), qr("No"))]},
     {"components": [BODY, buttons(qr("Yes"), qr(""))]}, "buttons[1].text"),
    ("button label static", {"components": [BODY, buttons(qr("Yes"))]},
     {"components": [BODY, buttons(qr("Yes {{1}}"))]}, "buttons[0].text"),
    ("button type", {"components": [BODY, buttons(qr())]},
     {"components": [BODY, buttons(qr(), {"type": "CATALOG", "text": "See"})]}, "buttons[1].type"),
    ("buttons present", {"components": [BODY, buttons(qr())]}, {"components": [BODY, buttons()]}, "buttons"),
    ("ten buttons", {"components": [BODY, buttons(*[qr(f"Option {n}") for n in range(10)])]},
     {"components": [BODY, buttons(*[qr(f"Option {n}") for n in range(11)])]}, "buttons"),
    ("two URL buttons", {"components": [BODY, buttons(url(), url())]},
     {"components": [BODY, buttons(url(), url(), url())]}, "buttons"),
    ("one phone button", {"components": [BODY, buttons(phone(), url())]},
     {"components": [BODY, buttons(phone(), phone())]}, "buttons"),
    ("quick replies first, grouped", {"components": [BODY, buttons(qr(), qr(), url(), phone())]},
     {"components": [BODY, buttons(qr(), url(), qr())]}, "buttons"),
    ("quick replies last, grouped", {"components": [BODY, buttons(url(), phone(), qr(), qr())]},
     {"components": [BODY, buttons(url(), qr(), phone())]}, "buttons"),
    ("URL scheme", {"components": [BODY, buttons(url("http://example.com"))]},
     {"components": [BODY, buttons(url("www.example.com"))]}, "buttons[0].url"),
    ("URL scheme ftp", {"components": [BODY, buttons(url("https://example.com"))]},
     {"components": [BODY, buttons(url("ftp://example.com/file"))]}, "buttons[0].url"),
    ("URL without spaces", {"components": [BODY, buttons(url("https://example.com/a%20b"))]},
     {"components": [BODY, buttons(url("https://example.com/a b"))]}, "buttons[0].url"),
    ("URL newline", {"components": [BODY, buttons(url("https://example.com/a"))]},
     {"components": [BODY, buttons(url("https://example.com/a\n"))]}, "buttons[0].url"),
    ("URL present", {"components": [BODY, buttons(url())]}, {"components": [BODY, buttons(url(""))]},
     "buttons[0].url"),
    ("dynamic URL at the end", {"components": [BODY, buttons(url("https://example.com/o/{{1}}", example=["a"]))]},
     {"components": [BODY, buttons(url("https://example.com/{{1}}/o", example=["a"]))]}, "buttons[0].url"),
    ("dynamic URL variable one", {"components": [BODY, buttons(url("https://example.com/o/{{1}}", example=["a"]))]},
     {"components": [BODY, buttons(url("https://example.com/o/{{2}}", example=["a"]))]}, "buttons[0].url"),
    ("dynamic URL example", {"components": [BODY, buttons(url("https://example.com/o/{{1}}", example=["a"]))]},
     {"components": [BODY, buttons(url("https://example.com/o/{{1}}"))]}, "buttons[0].example"),
    ("dynamic URL example not empty",
     {"components": [BODY, buttons(url("https://example.com/o/{{1}}", example=["a"]))]},
     {"components": [BODY, buttons(url("https://example.com/o/{{1}}", example=[""]))]}, "buttons[0].example"),
    ("phone international", {"components": [BODY, buttons(phone("+573001234567"))]},
     {"components": [BODY, buttons(phone("3001234567"))]}, "buttons[0].phone_number"),
    ("phone valid", {"components": [BODY, buttons(phone("+1 650 555 1234"))]},
     {"components": [BODY, buttons(phone("+57 123"))]}, "buttons[0].phone_number"),
    ("phone present", {"components": [BODY, buttons(phone())]}, {"components": [BODY, buttons(phone(""))]},
     "buttons[0].phone_number"),
]
MEDIA = [
    (fmt, {"components": [{"type": "HEADER", "format": fmt, "example": {"header_handle": ["https://e.co/a.bin"]}},
                          BODY]},
     {"components": [{"type": "HEADER", "format": fmt}, BODY]}, "header.example")
    for fmt in ("IMAGE", "VIDEO", "DOCUMENT")
] + [
    (f"{fmt} link", {"components": [{"type": "HEADER", "format": fmt,
                                     "example": {"header_handle": ["https://e.co/a.bin"]}}, BODY]},
     {"components": [{"type": "HEADER", "format": fmt, "example": {"header_handle": ["sample.jpg"]}}, BODY]},
     "header.example")
    for fmt in ("IMAGE", "VIDEO", "DOCUMENT")
]


@pytest.mark.parametrize(("what", "accepted", "refused", "field"), LIMITS + MEDIA,
                         ids=[case[0] for case in LIMITS + MEDIA])
def test_rule_accepted_at_its_limit_and_refused_past_it(what, accepted, refused, field):
    assert problems(**accepted) == []
    found = problems(**refused)
    assert field in fields(found), found
    assert all(problem.message for problem in found)


def test_a_valid_complete_template_has_no_problem():
    components = [
        header("Order {{1}}", ["A-1024"]),
        body("Hello {{1}}, your order arrives on *{{2}}*. Reply to {{1}} if needed.", ["José", "Tuesday"]),
        {"type": "FOOTER", "text": "Shop"},
        buttons(qr("Thanks"), qr("Change date"), url("https://example.com/orders/{{1}}", example=["A-1024"]),
                url("https://example.com/help"), phone("+50499319999")),
    ]
    assert problems(components) == []


def test_component_types_are_read_in_any_case():
    assert problems([{"type": "body", "text": "Hi {{1}}.", "example": {"body_text": [["a"]]}}]) == []


def test_the_seeds_create_template_example_breaks_only_the_variable_placement_rules():
    """The manual's example predates WhatsApp's placement rules; its wire shape is otherwise accepted.

    ``body-text {{1}} {{2}} {{3}}`` ends with a variable and puts variables side by side,
    which WhatsApp now refuses; separated by words, the same template passes.
    """
    seed = json.loads((FIXTURES / "template_create_request.json").read_text())
    found = template_problems(name=seed["name"], language=seed["language"], category=seed["category"],
                              components=seed["components"])
    assert fields(found) == {"body.text"}
    assert {p.message for p in found} == {
        "The body can't end with a variable: put some words or a full stop after it.",
        "Two variables can't be side by side: put some words between them.",
    }
    fixed = copy.deepcopy(seed["components"])
    fixed[0]["text"] = "body-text {{1}}, {{2}} and {{3}}."
    assert template_problems(name=seed["name"], language=seed["language"], category=seed["category"],
                             components=fixed) == []


@pytest.mark.parametrize("category", LEGACY_CATEGORIES)
def test_legacy_categories_are_accepted(category):
    assert problems(category=category) == []


def test_messages_say_what_to_fix():
    [name] = problems(name="Pedido Envíado")
    assert name.message.endswith("For example: pedido_enviado")
    [language] = problems(language="en-US")
    assert "en_US" in language.message
    [gap] = problems([body("Hi {{1}}, see {{3}}.", ["a", "b"])])
    assert "{{2}} is missing" in gap.message
    [order] = problems([body("Hi {{2}}, see {{1}}.", ["a", "b"])])
    assert "{{2}}, {{1}}" in order.message
    [length] = problems([body("b" * 1030)])
    assert "1030" in length.message and "1024" in length.message


def test_every_problem_is_reported_at_once_in_reading_order():
    found = problems([header("h" * 61), body("{{1}} x"), {"type": "FOOTER", "text": "f" * 61},
                      buttons(qr("l" * 26))], name="Bad Name", language="xx", category="")
    order = [p.field for p in found]
    assert order == ["name", "language", "category", "header.text", "body.text", "footer.text", "buttons[0].text"]


def test_problem_as_dict():
    assert Problem("name", "Fix it.").as_dict() == {"field": "name", "message": "Fix it."}


@pytest.mark.parametrize(
    ("text", "numbers", "count"),
    [
        ("", [], 0),
        (None, [], 0),
        ("Hi {{1}}, {{2}} and {{1}} again", [1, 2, 1], 2),
        ("{{ 1 }} {{name}} {{0}} {1}", [], 0),
        ("{{12}} then {{3}}", [12, 3], 2),
    ],
)
def test_placeholders_and_count_variables(text, numbers, count):
    assert placeholders(text) == numbers
    assert count_variables(text) == count
