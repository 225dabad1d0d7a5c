"""ContactoVirtualClient against the manual's examples (seed 002), with ``responses``.

The manual shows no refusal body; refusals are built as ``{"code": N,
"status": "<the manual's Concepto words>"}``, the shape of its success answer.
"""

from decimal import Decimal

import pytest
import requests
import responses
from responses import matchers

from providers.base import (
    DEFAULT_TIMEOUT,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from providers.contacto_virtual import (
    PRODUCTION_BASE_URL,
    RETURN_CODES,
    ContactoVirtualClient,
)
from providers.types import Balance, SendResult, TemplateInfo, TemplateSend
from tests.fixtures import fixture_text, load_fixture

SEND_URL = "https://contacto-virtual.com/bot/chat_wa/ws/send/"
BALANCE_URL = "https://contacto-virtual.com/bot/chat_wa/ws/balance/"
TEMPLATE_URL = "https://contacto-virtual.com/bot/chat_wa/ws/template/"

FORM_ENCODED = matchers.header_matcher({"Content-Type": "application/x-www-form-urlencoded"})

SEED_SEND = TemplateSend(
    id_template="990",
    mobile="573102334455",
    variables=("Carlos", "$100", "miércoles", "Davivienda", "bancolombia"),
    custom_field="1234-5678-912554",
)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def send_client() -> ContactoVirtualClient:
    form = load_fixture("contacto_virtual", "send_request")
    return ContactoVirtualClient(login=form["login"], token=form["token"])


def account_client() -> ContactoVirtualClient:
    form = load_fixture("contacto_virtual", "balance_request")
    return ContactoVirtualClient(login=form["login"], token=form["token"])


def form_is(expected: dict[str, str]):
    # allow_blank: a field sent empty must show up as a mismatch, not vanish.
    return matchers.urlencoded_params_matcher(expected, allow_blank=True)


def refusal(code: int | str, status: str | None = None) -> dict:
    entry = RETURN_CODES.get(int(code)) if str(code).strip().isdigit() else None
    return {"code": code, "status": status if status is not None else (entry.status if entry else "")}


# --- send -----------------------------------------------------------------------


def test_default_base_url_is_production():
    assert PRODUCTION_BASE_URL == "https://contacto-virtual.com/bot/chat_wa/ws/"
    assert send_client().url("send/") == SEND_URL


def test_send_seed_example_posts_the_postman_form(rsps):
    expected_form = load_fixture("contacto_virtual", "send_request")
    rsps.post(
        SEND_URL,
        json=load_fixture("contacto_virtual", "send_response"),
        match=[form_is(expected_form), FORM_ENCODED],
    )

    result = send_client().send(SEED_SEND)

    assert result == SendResult(
        message_id="0e1add43-f91c-4e7c-8805-221ef6b27b98",
        raw=load_fixture("contacto_virtual", "send_response"),
    )
    assert result.id_kind == "provider"


def test_build_send_form_is_the_seed_form_with_secrets():
    form = send_client().build_send_form(SEED_SEND)

    assert form == load_fixture("contacto_virtual", "send_request")
    assert form["template_variables"] == "[Carlos] [$100] [miércoles] [Davivienda] [bancolombia]"


def test_send_without_optional_fields_sends_only_the_required_ones(rsps):
    rsps.post(
        SEND_URL,
        json=load_fixture("contacto_virtual", "send_response"),
        match=[
            form_is(
                {
                    "login": "demo@gmail.com",
                    "token": "b6fd61ec974d1652082a802a4d8e443712138ed",
                    "id_template": "990",
                    "mobile": "573102334455",
                }
            ),
            FORM_ENCODED,
        ],
    )

    result = send_client().send(TemplateSend(id_template="990", mobile="573102334455"))

    assert result.message_id == "0e1add43-f91c-4e7c-8805-221ef6b27b98"


def test_send_with_media_and_every_optional_field(rsps):
    rsps.post(
        SEND_URL,
        json=load_fixture("contacto_virtual", "send_response"),
        match=[
            form_is(
                {
                    "login": "demo@gmail.com",
                    "token": "b6fd61ec974d1652082a802a4d8e443712138ed",
                    "id_template": "990",
                    "mobile": "573102334455",
                    "template_variables": "[Carlos]",
                    "media": "https://servercliente.com/jemplo-de-Archivo-PDF-508.pdf",
                    "custom_field": "1234-5678-912554",
                }
            ),
            FORM_ENCODED,
        ],
    )

    send_client().send(
        TemplateSend(
            id_template="990",
            mobile="573102334455",
            variables=("Carlos",),
            media="https://servercliente.com/jemplo-de-Archivo-PDF-508.pdf",
            custom_field="1234-5678-912554",
        )
    )


@pytest.mark.parametrize("base_url", ["https://sandbox.test/cv", "https://sandbox.test/cv/"])
def test_send_uses_a_configured_base_url_and_keeps_the_trailing_slash(rsps, base_url):
    rsps.post("https://sandbox.test/cv/send/", json=load_fixture("contacto_virtual", "send_response"))
    client = ContactoVirtualClient(base_url=base_url, login="demo@gmail.com", token="t")

    assert client.send(TemplateSend(id_template="990", mobile="573102334455")).message_id


def test_send_passes_the_timeout_and_uses_the_given_session(rsps):
    rsps.post(SEND_URL, json=load_fixture("contacto_virtual", "send_response"))
    session = requests.Session()
    client = ContactoVirtualClient(login="demo@gmail.com", token="t", session=session, timeout=(1.0, 2.0))

    client.send(TemplateSend(id_template="990", mobile="573102334455"))

    assert client.session is session
    assert rsps.calls[0].request.req_kwargs["timeout"] == (1.0, 2.0)
    assert send_client().timeout == DEFAULT_TIMEOUT


@pytest.mark.parametrize("code", ["1", " 1 ", 1.0])
def test_send_accepts_the_success_code_as_a_numeric_string(rsps, code):
    rsps.post(SEND_URL, json={"code": code, "status": "mensaje enviado", "messageId": "abc"})

    assert send_client().send(SEED_SEND).message_id == "abc"


@pytest.mark.parametrize(
    ("code", "error_class", "field", "phrase"),
    [
        (2, ProviderAuthError, None, "authentication error: invalid login or token"),
        (3, ProviderRejected, None, "contact contacto virtual support"),
        (4, ProviderRejected, "mobile", "57 followed by 10 digits (12 digits in all)"),
        (5, ProviderRejected, None, "top up the account balance"),
        (6, ProviderRejected, None, "no content"),
        (7, ProviderRejected, "id_template", "not in this account's project"),
        (8, ProviderRejected, "template_variables", "does not match the number of variables in the template"),
    ],
)
def test_send_refusal_codes_map_to_errors(rsps, code, error_class, field, phrase):
    rsps.post(SEND_URL, json=refusal(code))

    with pytest.raises(error_class) as caught:
        send_client().send(SEED_SEND)

    error = caught.value
    assert type(error) is error_class
    assert error.code == code
    assert error.field == field
    assert error.retryable is False
    assert error.maybe_delivered is False
    assert phrase in error.message.lower()
    # The provider's own words stay in the message.
    assert RETURN_CODES[code].status.lower() in error.message.lower()
    assert error.body == refusal(code)


@pytest.mark.parametrize("code", [2, 3, 4, 5, 6, 7, 8])
def test_send_refusal_codes_as_strings(rsps, code):
    rsps.post(SEND_URL, json=refusal(str(code)))

    with pytest.raises(ProviderRejected if code != 2 else ProviderAuthError) as caught:
        send_client().send(SEED_SEND)

    assert caught.value.code == code


def test_send_refusal_keeps_provider_words_that_differ_from_the_manual(rsps):
    rsps.post(SEND_URL, json={"code": 5, "status": "sin saldo"})

    with pytest.raises(ProviderRejected) as caught:
        send_client().send(SEED_SEND)

    assert 'Contacto Virtual said: "sin saldo"' in caught.value.message


def test_send_code_4_says_what_is_wrong_with_the_mobile(rsps):
    rsps.post(SEND_URL, json=refusal(4))

    with pytest.raises(ProviderRejected) as caught:
        send_client().send(TemplateSend(id_template="990", mobile="3102334455"))

    assert "put 57 in front of it (573102334455)" in caught.value.message


def test_send_code_7_and_8_name_what_was_sent(rsps):
    rsps.post(SEND_URL, json=refusal(7))
    rsps.post(SEND_URL, json=refusal(8))
    client = send_client()

    with pytest.raises(ProviderRejected) as seven:
        client.send(SEED_SEND)
    with pytest.raises(ProviderRejected) as eight:
        client.send(SEED_SEND)

    assert "The template id sent was 990." in seven.value.message
    assert "5 variables were sent." in eight.value.message


def test_send_unknown_code_is_rejected_with_the_provider_words(rsps):
    rsps.post(SEND_URL, json={"code": 99, "status": "algo raro"})

    with pytest.raises(ProviderRejected) as caught:
        send_client().send(SEED_SEND)

    assert caught.value.code == 99
    assert caught.value.message == 'Contacto Virtual refused the request (code 99): "algo raro".'


def test_send_non_numeric_code_is_rejected_and_named(rsps):
    rsps.post(SEND_URL, json={"code": "E1"})

    with pytest.raises(ProviderRejected) as caught:
        send_client().send(SEED_SEND)

    assert caught.value.code == "E1"
    assert "code E1" in caught.value.message


def test_send_success_without_message_id_is_a_bad_response_that_may_have_been_delivered(rsps):
    rsps.post(SEND_URL, json={"code": 1, "status": "mensaje enviado"})

    with pytest.raises(ProviderBadResponse) as caught:
        send_client().send(SEED_SEND)

    assert caught.value.maybe_delivered is True
    assert "no messageId" in caught.value.message


def test_send_without_code_but_with_message_id_is_success(rsps):
    rsps.post(SEND_URL, json={"messageId": "abc"})

    assert send_client().send(SEED_SEND).message_id == "abc"


@pytest.mark.parametrize(
    "answer",
    [{"status": "ok"}, ["code", 1]],
    ids=["no code, no id", "a list"],
)
def test_send_unreadable_json_answers_are_bad_responses(rsps, answer):
    rsps.post(SEND_URL, json=answer)

    with pytest.raises(ProviderBadResponse) as caught:
        send_client().send(SEED_SEND)

    assert caught.value.maybe_delivered is True


def test_send_non_json_answer_is_a_bad_response(rsps):
    rsps.post(SEND_URL, body="<html>Error</html>", content_type="text/html")

    with pytest.raises(ProviderBadResponse):
        send_client().send(SEED_SEND)


def test_send_refuses_bracketed_variables_before_any_request(rsps):
    with pytest.raises(ValueError, match="variable 2"):
        send_client().send(TemplateSend(id_template="990", mobile="573102334455", variables=("a", "[b]")))

    assert len(rsps.calls) == 0


def test_custom_field_longer_than_the_manual_allows_is_refused():
    client = send_client()
    ok = TemplateSend(id_template="990", mobile="573102334455", custom_field="x" * 1000)

    assert client.build_send_form(ok)["custom_field"] == "x" * 1000
    with pytest.raises(ValueError, match="1001 characters"):
        client.build_send_form(TemplateSend(id_template="990", mobile="573102334455", custom_field="x" * 1001))


# --- refusals with an HTTP error status ------------------------------------------


@pytest.mark.parametrize(("status", "code", "error_class"), [(401, 2, ProviderAuthError), (400, 4, ProviderRejected)])
def test_a_code_in_a_4xx_body_beats_the_generic_http_mapping(rsps, status, code, error_class):
    rsps.post(SEND_URL, json=refusal(code), status=status)

    with pytest.raises(error_class) as caught:
        send_client().send(SEED_SEND)

    assert caught.value.code == code
    assert caught.value.status == status
    assert caught.value.field == RETURN_CODES[code].field


def test_a_4xx_without_a_code_uses_the_base_mapping(rsps):
    rsps.post(SEND_URL, body="Forbidden", status=403)

    with pytest.raises(ProviderAuthError) as caught:
        send_client().send(SEED_SEND)

    assert caught.value.status == 403
    assert caught.value.code is None


# --- HTTP-level failures (BaseClient) ---------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable_and_retryable(rsps, status):
    # Even with a code in the body: a 5xx is the server failing, so retrying is the right call.
    rsps.post(SEND_URL, json=refusal(2), status=status)

    with pytest.raises(ProviderUnavailable) as caught:
        send_client().send(SEED_SEND)

    assert caught.value.retryable is True
    assert caught.value.status == status


def test_429_is_rate_limited_with_retry_after(rsps):
    rsps.post(SEND_URL, body="", status=429, headers={"Retry-After": "30"})

    with pytest.raises(ProviderRateLimited) as caught:
        send_client().send(SEED_SEND)

    assert caught.value.retryable is True
    assert caught.value.retry_after == 30.0


def test_read_timeout_on_send_may_have_delivered_and_is_not_retryable(rsps):
    rsps.post(SEND_URL, body=requests.exceptions.ReadTimeout("slow"))

    with pytest.raises(ProviderTimeout) as caught:
        send_client().send(SEED_SEND)

    assert caught.value.maybe_delivered is True
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    "exception",
    [requests.exceptions.ConnectTimeout("no route"), requests.exceptions.ConnectionError("refused")],
    ids=["connect timeout", "connection error"],
)
def test_connection_failures_are_unavailable_and_retryable(rsps, exception):
    rsps.post(BALANCE_URL, body=exception)

    with pytest.raises(ProviderUnavailable) as caught:
        account_client().balance()

    assert caught.value.retryable is True
    assert caught.value.maybe_delivered is False


# --- balance --------------------------------------------------------------------


def test_balance_seed_example(rsps):
    rsps.post(
        BALANCE_URL,
        json=load_fixture("contacto_virtual", "balance_response"),
        match=[form_is(load_fixture("contacto_virtual", "balance_request")), FORM_ENCODED],
    )

    balance = account_client().balance()

    assert balance == Balance(amount=Decimal("163"), raw={"balance": "163", "status": "success"})


@pytest.mark.parametrize(("value", "amount"), [(163.5, Decimal("163.5")), (" 1200 ", Decimal("1200")), (0, Decimal(0))])
def test_balance_accepts_numbers_and_padded_strings(rsps, value, amount):
    rsps.post(BALANCE_URL, json={"balance": value, "status": "success"})

    assert account_client().balance().amount == amount


@pytest.mark.parametrize(("code", "error_class"), [(2, ProviderAuthError), (3, ProviderRejected)])
def test_balance_refusal_codes(rsps, code, error_class):
    rsps.post(BALANCE_URL, json=refusal(code))

    with pytest.raises(error_class) as caught:
        account_client().balance()

    assert caught.value.code == code
    assert RETURN_CODES[code].status in caught.value.message


@pytest.mark.parametrize("answer", [{"status": "success"}, {"balance": "mucho"}, {"balance": "NaN"}, ["163"]])
def test_balance_without_a_readable_amount_is_a_bad_response(rsps, answer):
    rsps.post(BALANCE_URL, json=answer)

    with pytest.raises(ProviderBadResponse):
        account_client().balance()


def test_check_connection_reports_the_balance(rsps):
    rsps.post(BALANCE_URL, json=load_fixture("contacto_virtual", "balance_response"))

    assert account_client().check_connection() == "Connected to Contacto Virtual as demo@gmail.com; the balance is 163."


def test_check_connection_raises_the_auth_error(rsps):
    rsps.post(BALANCE_URL, json=refusal(2))

    with pytest.raises(ProviderAuthError):
        account_client().check_connection()


def test_repr_never_shows_the_token():
    client = account_client()

    assert client.token not in repr(client)
    assert "demo@gmail.com" in repr(client)


# --- templates ------------------------------------------------------------------


def test_templates_list_seed_example(rsps):
    rsps.post(
        TEMPLATE_URL,
        json=load_fixture("contacto_virtual", "template_response"),
        match=[form_is(load_fixture("contacto_virtual", "balance_request")), FORM_ENCODED],
    )

    templates = account_client().templates_list()

    assert [t.name for t in templates] == ["Asignación de cita", "Modificación de cita"]
    assert all(isinstance(t, TemplateInfo) for t in templates)
    assert templates[0].status == "success"
    assert templates[0].id == ""
    assert templates[1].text == (
        "Hola *{1}*! A continuación, le presentamos información de su cita *\n*modificada* en modalidad "
        "*presencial* con el profesional *{2}*\n\nFecha y hora: *{3}*"
    )


def test_templates_list_decodes_utf8_when_no_charset_is_declared(rsps):
    body = '[{"nombre_plantilla": "Asignación de cita", "plantilla_aprobada": "¡Hola *{1}*!", "status": "aprobada"}]'
    rsps.post(TEMPLATE_URL, body=body.encode("utf-8"), content_type="text/html")

    (template,) = account_client().templates_list()

    assert template == TemplateInfo(name="Asignación de cita", text="¡Hola *{1}*!", status="aprobada")


@pytest.mark.parametrize(
    "answer",
    [{"code": 4, "status": "without templates"}, {"code": "4"}, [{"code": 4, "status": "without templates"}], []],
    ids=["code 4", "code '4'", "code 4 in a list", "empty list"],
)
def test_templates_list_without_templates_is_empty(rsps, answer):
    rsps.post(TEMPLATE_URL, json=answer)

    assert account_client().templates_list() == []


@pytest.mark.parametrize(("code", "error_class"), [(2, ProviderAuthError), (3, ProviderRejected)])
def test_templates_list_refusal_codes(rsps, code, error_class):
    rsps.post(TEMPLATE_URL, json=refusal(code))

    with pytest.raises(error_class) as caught:
        account_client().templates_list()

    assert caught.value.code == code


def test_templates_list_refusal_inside_a_list(rsps):
    rsps.post(TEMPLATE_URL, json=[refusal(2)])

    with pytest.raises(ProviderAuthError):
        account_client().templates_list()


def test_templates_list_accepts_a_single_unwrapped_template(rsps):
    rsps.post(TEMPLATE_URL, json={"nombre_plantilla": "x", "plantilla_aprobada": "Hola {1}", "status": "pendiente"})

    assert account_client().templates_list() == [TemplateInfo(name="x", text="Hola {1}", status="pendiente")]


def test_templates_list_the_manuals_literal_text_is_a_bad_response(rsps):
    rsps.post(TEMPLATE_URL, body=fixture_text("contacto_virtual", "template_response_seed_literal.txt"))

    with pytest.raises(ProviderBadResponse):
        account_client().templates_list()


@pytest.mark.parametrize(
    "answer",
    [[{"plantilla_aprobada": "sin nombre"}], ["Asignación de cita"], {"status": "success"}, "plantillas"],
    ids=["entry without name", "entry not an object", "object without code", "a string"],
)
def test_templates_list_unreadable_answers_are_bad_responses(rsps, answer):
    rsps.post(TEMPLATE_URL, json=answer)

    with pytest.raises(ProviderBadResponse):
        account_client().templates_list()


@pytest.mark.parametrize(
    ("code", "english", "spanish"),
    [
        ("1002", "not active for sending WhatsApp messages", "no está activo para enviar mensajes de WhatsApp"),
        ("1005", "the template did not match", "la plantilla no coincidió"),
        ("1010", "invalid media URL", "URL de medios no válida"),
    ],
)
def test_send_delivery_codes_are_told_in_words_in_the_persons_language(rsps, code, english, spanish):
    # Seed 002 l.67-78: send/ may answer 1002-1011 with the status "sending error, return balance".
    from django.utils import translation

    rsps.post(SEND_URL, json={"code": code, "status": "sending error, return balance"})
    for language, phrase in (("en", english), ("es", spanish)):
        with translation.override(language), pytest.raises(ProviderRejected) as caught:
            send_client().send(SEED_SEND)
        assert phrase in caught.value.message, (language, caught.value.message)
        assert code in caught.value.message and "sending error, return balance" in caught.value.message
        assert caught.value.code == int(code)
