"""The builder: flat form ↔ components, the preview bubble, and the form's cleaning."""

import json
from pathlib import Path

import pytest
from django.utils import translation

from templates_mgr.builder import (
    components_from_form,
    components_from_plain_text,
    form_initial_from_components,
    render_preview,
    whatsapp_html,
)
from templates_mgr.forms import TemplateBuilderForm, initial_from_builder
from templates_mgr.validation import template_problems
from tests.factories import WabaFactory
from tests.templates_mgr.factories import components_example

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aldeamo"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def full_data() -> dict:
    return {
        "category": "UTILITY",
        "name": "order_shipped",
        "language": "es",
        "header_type": "text",
        "header_text": "Pedido {{1}}",
        "header_example": "A-1024",
        "header_media_url": "",
        "body_text": "Hola {{1}}, tu pedido llega el *{{2}}*.",
        "body_examples": ["José", "martes"],
        "footer_text": "Tienda Pruebas",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Gracias", "url": "", "url_example": "", "phone_number": ""},
            {"type": "URL", "text": "Ver pedido", "url": "https://example.com/orders/{{1}}", "url_example": "A-1024",
             "phone_number": ""},
            {"type": "PHONE_NUMBER", "text": "Llamar", "url": "", "url_example": "", "phone_number": "+573001234567"},
        ],
    }


# --- form data ↔ components ----------------------------------------------------------------------


def test_components_from_form_builds_the_create_template_shape():
    assert components_from_form(full_data()) == components_example()


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"header_type": "none", "header_text": "", "header_example": ""},
        {"header_type": "text", "header_text": "Pedido listo", "header_example": ""},
        {"header_type": "image", "header_text": "", "header_example": "", "header_media_url": "https://e.co/a.jpg"},
        {"header_type": "video", "header_text": "", "header_example": "", "header_media_url": "https://e.co/a.mp4"},
        {"header_type": "document", "header_text": "", "header_example": "",
         "header_media_url": "https://e.co/a.pdf"},
        {"footer_text": "", "buttons": []},
        {"body_text": "Sin variables.", "body_examples": []},
    ],
    ids=["full", "no header", "static header", "image", "video", "document", "body only", "no variables"],
)
def test_form_data_round_trips_through_components(changes):
    data = {**full_data(), **changes}
    back = form_initial_from_components(components_from_form(data), name=data["name"], language=data["language"],
                                        category=data["category"])
    assert back == data


def test_components_round_trip_through_the_form():
    components = components_example()
    assert components_from_form(form_initial_from_components(components)) == components


def test_the_seeds_create_template_components_round_trip_in_reading_order():
    seed = json.loads((FIXTURES / "template_create_request.json").read_text())
    data = form_initial_from_components(seed["components"])
    assert data["header_type"] == "text"
    assert data["header_example"] == "header-example"
    assert data["body_examples"] == ["body-example-1", "body-example-2", "body-example-3"]
    rebuilt = components_from_form(data)
    by_type = {component["type"]: component for component in rebuilt}
    assert by_type == {component["type"]: component for component in seed["components"]}
    assert [component["type"] for component in rebuilt] == ["HEADER", "BODY"]


def test_a_synced_listing_is_read_with_its_nulls():
    listing = json.loads((FIXTURES / "templates_list_response.json").read_text())
    components = listing["data"]["templates"][0]["components"]
    data = form_initial_from_components(components)
    assert data["body_text"].startswith("Buen dia {{1}}")
    assert data["body_examples"] == ["José"]
    assert [b["type"] for b in data["buttons"]] == ["PHONE_NUMBER", "URL"]
    assert data["buttons"][1]["url"] == ""


def test_examples_follow_the_variables_of_the_body():
    data = {**full_data(), "body_text": "Hi {{1}}, {{2}} and {{3}}.", "body_examples": ["a"]}
    body = components_from_form(data)[1]
    assert body["example"] == {"body_text": [["a", "", ""]]}
    data = {**full_data(), "body_text": "Hi {{1}}.", "body_examples": ["a", "b", "c"]}
    assert components_from_form(data)[1]["example"] == {"body_text": [["a"]]}


def test_static_url_and_header_carry_no_example():
    data = {**full_data(), "header_text": "Pedido", "header_example": "x"}
    data["buttons"] = [{"type": "URL", "text": "Help", "url": "https://example.com", "url_example": "x"}]
    header, _body, _footer, buttons = components_from_form(data)
    assert "example" not in header
    assert buttons["buttons"] == [{"type": "URL", "text": "Help", "url": "https://example.com"}]


def test_unused_button_rows_are_left_out():
    data = {**full_data(), "buttons": [{"type": "", "text": ""}, {"type": "QUICK_REPLY", "text": "Ok"}]}
    assert components_from_form(data)[-1] == {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Ok"}]}


def test_plain_text_variables_become_double_braces():
    assert components_from_plain_text("Hola {1}, saldo {2}.") == [{"type": "BODY", "text": "Hola {{1}}, saldo {{2}}."}]


# --- preview ----------------------------------------------------------------------------------------


def test_preview_shows_the_examples_in_place_of_the_variables():
    preview = render_preview(components_example())
    assert preview["header"]["text"] == "Pedido A-1024"
    assert preview["body"]["text"] == "Hola José, tu pedido llega el *martes*."
    assert "<strong><span class=\"wa-example\" title=\"{{2}}\">martes</span></strong>" in preview["body"]["html"]
    assert preview["footer"] == "Tienda Pruebas"
    assert [(b["type"], b["text"]) for b in preview["buttons"]] == [
        ("QUICK_REPLY", "Gracias"), ("URL", "Ver pedido"), ("PHONE_NUMBER", "Llamar")]
    assert preview["buttons"][1]["url"] == "https://example.com/orders/A-1024"
    assert preview["variables"] == 2


def test_preview_without_examples_keeps_the_variables_marked():
    preview = render_preview(components_example(), examples=False)
    assert preview["body"]["text"] == "Hola {{1}}, tu pedido llega el *{{2}}*."
    assert '<span class="wa-var">{{1}}</span>' in preview["body"]["html"]
    assert preview["buttons"][1]["url"] == "https://example.com/orders/{{1}}"


def test_a_variable_without_an_example_stays_visible():
    components = [{"type": "BODY", "text": "Hi {{1}} and {{2}}.", "example": {"body_text": [["Ana", ""]]}}]
    preview = render_preview(components)
    assert preview["body"]["text"] == "Hi Ana and {{2}}."
    assert '<span class="wa-var">{{2}}</span>' in preview["body"]["html"]


def test_media_header_preview():
    components = [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://e.co/a.jpg"]}},
                  {"type": "BODY", "text": "Hi."}]
    preview = render_preview(components)
    assert preview["header"] == {"format": "IMAGE", "text": "", "html": "", "media_url": "https://e.co/a.jpg"}


def test_full_url_example_is_shown_as_is():
    components = [{"type": "BODY", "text": "Hi."}, {"type": "BUTTONS", "buttons": [
        {"type": "URL", "text": "Go", "url": "https://e.co/{{1}}", "example": ["https://e.co/summer"]}]}]
    assert render_preview(components)["buttons"][0]["url"] == "https://e.co/summer"


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*bold* _italic_ ~strike~", "<strong>bold</strong> <em>italic</em> <s>strike</s>"),
        ("```mono``` text", "<code>mono</code> text"),
        ("*_both_*", "<strong><em>both</em></strong>"),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        ("* not bold *", "* not bold *"),
        ("<script>alert('x')</script> & co", "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co"),
        ("line one\nline two", "line one<br>line two"),
        ("keep \ue000 out", "keep  out"),
    ],
)
def test_whatsapp_formatting(text, html):
    assert whatsapp_html(text) == html


def test_examples_are_escaped():
    assert whatsapp_html("Hi {{1}}.", {1: "<b>Ana</b>"}) == (
        'Hi <span class="wa-example" title="{{1}}">&lt;b&gt;Ana&lt;/b&gt;</span>.')


# --- the form ----------------------------------------------------------------------------------------


def form_post(data: dict, waba) -> dict:
    """The POST a browser sends for builder ``data``."""
    post = {key: value for key, value in initial_from_builder(data).items()}
    post["waba"] = str(waba.pk)
    return post


@pytest.mark.django_db
def test_a_valid_form_has_the_components_ready_for_the_service():
    waba = WabaFactory()
    form = TemplateBuilderForm(form_post(full_data(), waba), wabas=type(waba).objects.all())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["components"] == components_example()
    assert form.cleaned_data["waba"] == waba


@pytest.mark.django_db
def test_problems_land_on_the_matching_fields():
    waba = WabaFactory()
    data = full_data()
    data.update(name="Order Shipped", header_text="h" * 61, body_text="{{1}} llega el {{2}}.",
                body_examples=["José", ""], footer_text="Bye {{1}}")
    data["buttons"] = [
        {"type": "QUICK_REPLY", "text": "l" * 26},
        {"type": "URL", "text": "Go", "url": "www.example.com"},
        {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "3001234567"},
    ]
    post = form_post(data, waba)
    # Leave button row 2 empty: the URL and phone buttons sit in rows 3 and 4.
    for attr in ("type", "text", "url", "url_example", "phone_number"):
        post[f"button_4_{attr}"] = post.pop(f"button_3_{attr}", "")
        post[f"button_3_{attr}"] = post.pop(f"button_2_{attr}", "")
    form = TemplateBuilderForm(post, wabas=type(waba).objects.all())
    assert not form.is_valid()
    assert set(form.errors) == {"name", "header_text", "body_text", "body_example_2", "footer_text",
                                "button_1_text", "button_3_url", "button_4_phone_number"}
    assert form.errors["body_example_2"] == ["Give an example for {{2}}."]


@pytest.mark.django_db
def test_a_button_row_without_a_type_is_pointed_at():
    waba = WabaFactory()
    post = form_post({**full_data(), "buttons": []}, waba)
    post["button_2_text"] = "Orphan label"
    form = TemplateBuilderForm(post, wabas=type(waba).objects.all())
    assert not form.is_valid()
    assert list(form.errors) == ["button_2_type"]


@pytest.mark.django_db
def test_example_inputs_follow_the_submitted_body():
    waba = WabaFactory()
    post = form_post({**full_data(), "body_text": "A {{1}} b {{2}} c {{3}} d.", "body_examples": []}, waba)
    form = TemplateBuilderForm(post, wabas=type(waba).objects.all())
    assert [field.name for field in form.example_fields()] == ["body_example_1", "body_example_2", "body_example_3"]
    assert not form.is_valid()
    assert {"body_example_1", "body_example_2", "body_example_3"} <= set(form.errors)


@pytest.mark.django_db
def test_only_the_given_wabas_are_offered():
    mine, other = WabaFactory(), WabaFactory()
    form = TemplateBuilderForm(form_post(full_data(), other), wabas=type(mine).objects.filter(pk=mine.pk))
    assert not form.is_valid()
    assert "waba" in form.errors


@pytest.mark.django_db
def test_form_preview_reflects_the_submitted_values_even_when_invalid():
    waba = WabaFactory()
    post = form_post({**full_data(), "name": "Bad Name"}, waba)
    form = TemplateBuilderForm(post, wabas=type(waba).objects.all())
    assert not form.is_valid()
    assert form.preview()["body"]["text"] == "Hola José, tu pedido llega el *martes*."


@pytest.mark.django_db
def test_service_problems_are_mapped_like_validation_problems():
    waba = WabaFactory()
    form = TemplateBuilderForm(form_post(full_data(), waba), wabas=type(waba).objects.all())
    assert form.is_valid()
    problems = template_problems(name="x", language="es", category="UTILITY",
                                 components=[{"type": "BODY", "text": "Hi"},
                                             {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": ""}]}])
    form.add_problems([p.as_dict() for p in problems])
    assert "button_1_text" in form.errors
    assert form.field_for("components") is None
    assert form.field_for("buttons[7].text") is None
