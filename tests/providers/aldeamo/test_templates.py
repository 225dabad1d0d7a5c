"""AldeamoClient template calls: list, create, delete (§"PLANTILLAS")."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from providers.aldeamo import AldeamoClient
from providers.base import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.types import TemplateInfo
from tests.providers.aldeamo.support import (
    API_KEY,
    APIKEY_HEADERS,
    BASE_URL,
    JSON_APIKEY_HEADERS,
    USER_ID,
    fixture,
)

WABA_ID = "236928178367012"
TEMPLATES_URL = f"{BASE_URL}/v1/apikey/template"


def test_templates_list_calls_get_templates_and_keeps_components_as_given(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(
        f"{TEMPLATES_URL}/getTemplates",
        json=fixture("templates_list_response"),
        match=[
            matchers.header_matcher(APIKEY_HEADERS),
            matchers.query_param_matcher({"limit": "1000", "wabaid": WABA_ID}),
        ],
    )

    templates = client.templates_list(waba_id=WABA_ID)

    seed_template = fixture("templates_list_response")["data"]["templates"][0]
    assert templates == [
        TemplateInfo(
            name="actualiza_botones",
            language="es",
            status="APPROVED",
            category="ACCOUNT_UPDATE",
            id="736609717637531",
            components=tuple(seed_template["components"]),
        )
    ]
    assert templates[0].components[1]["buttons"][0] == {
        "type": "PHONE_NUMBER",
        "text": "Llamar a Lacayo",
        "phone_number": "+50499319999",
    }
    assert mocked.calls[0].request.body is None


def test_templates_list_path_is_configurable(mocked: responses.RequestsMock) -> None:
    # Seed 000 l.2353/2359 read getTemplates in both environments; the path stays an account field anyway.
    client = AldeamoClient(base_url=BASE_URL, api_key=API_KEY, user_id=USER_ID, templates_list_path="listThem")
    mocked.get(
        f"{TEMPLATES_URL}/listThem",
        json=fixture("templates_list_response"),
        match=[matchers.query_param_matcher({"limit": "5", "wabaid": WABA_ID})],
    )

    assert [t.name for t in client.templates_list(waba_id=WABA_ID, limit=5)] == ["actualiza_botones"]


def test_templates_list_query_keeps_the_manuals_order(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{TEMPLATES_URL}/getTemplates", json=fixture("templates_list_response"))

    client.templates_list(waba_id=WABA_ID, limit=20)

    assert mocked.calls[0].request.url == f"{TEMPLATES_URL}/getTemplates?limit=20&wabaid={WABA_ID}"


def test_templates_list_with_no_templates(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{TEMPLATES_URL}/getTemplates", json={"status": 200, "reason": "OK", "data": {"templates": []}})

    assert client.templates_list(waba_id=WABA_ID) == []


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        ({"status": 401, "reason": "Unauthorized"}, ProviderAuthError, "Unauthorized"),
        ({"status": 400, "reason": "wabaid is required"}, ProviderRejected, "wabaid is required"),
        ({"status": "404", "reason": "Not Found", "data": None}, ProviderRejected, "Not Found"),
        ({"status": 429, "reason": "Too many requests"}, ProviderRateLimited, "Too many requests"),
        ({"status": 500, "reason": "Internal Server Error"}, ProviderUnavailable, "Internal Server Error"),
        ({"errors": ["Authentication Error"]}, ProviderRejected, "Authentication Error"),
    ],
)
def test_templates_list_reads_an_error_status_inside_a_200(
    client: AldeamoClient, mocked: responses.RequestsMock, body: dict, error: type[Exception], words: str
) -> None:
    mocked.get(f"{TEMPLATES_URL}/getTemplates", json=body, status=200)

    with pytest.raises(error) as excinfo:
        client.templates_list(waba_id=WABA_ID)

    assert str(excinfo.value) == words


@pytest.mark.parametrize(
    "body",
    [
        {"status": 200, "reason": "OK"},
        {"status": 200, "reason": "OK", "data": {"templates": [{"components": []}]}},
        {"status": 200, "reason": "OK", "data": {"templates": [{"name": "x", "components": "BODY"}]}},
    ],
    ids=["no-data", "nameless-template", "unreadable-components"],
)
def test_templates_list_unreadable_answers(client: AldeamoClient, mocked: responses.RequestsMock, body: dict) -> None:
    mocked.get(f"{TEMPLATES_URL}/getTemplates", json=body)

    with pytest.raises(ProviderBadResponse):
        client.templates_list(waba_id=WABA_ID)


def test_templates_list_http_401(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{TEMPLATES_URL}/getTemplates", json=fixture("send_error_401"), status=401)

    with pytest.raises(ProviderAuthError, match="^Authentication Error$"):
        client.templates_list(waba_id=WABA_ID)


def test_template_create_posts_the_manuals_body_and_returns_the_id(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    seed_body = fixture("template_create_request")
    mocked.post(
        f"{TEMPLATES_URL}/createTemplate",
        json=fixture("template_create_response"),
        match=[matchers.header_matcher(JSON_APIKEY_HEADERS), matchers.json_params_matcher(seed_body)],
    )

    template_id = client.template_create(
        waba_id="236928178367012",
        name="delete_test_14",
        language="en_US",
        category="ISSUE_RESOLUTION",
        components=seed_body["components"],
    )

    assert template_id == "1452834871831904"


def test_template_create_without_an_id_is_a_bad_response(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{TEMPLATES_URL}/createTemplate", json={"status": 200, "reason": "OK"})

    with pytest.raises(ProviderBadResponse):
        client.template_create(waba_id=WABA_ID, name="n", language="es", category="UTILITY", components=[])


def test_template_create_refused(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{TEMPLATES_URL}/createTemplate", json=fixture("send_error_400"), status=400)

    with pytest.raises(ProviderRejected, match="^Bad Request$"):
        client.template_create(waba_id=WABA_ID, name="n", language="es", category="UTILITY", components=[])


def test_template_delete_sends_name_and_waba_as_query(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.delete(
        f"{TEMPLATES_URL}/deleteTemplate",
        json=fixture("template_delete_response"),
        match=[
            matchers.header_matcher(APIKEY_HEADERS),
            matchers.query_param_matcher({"nameTemplate": "delete_test_14", "wabaid": WABA_ID}),
        ],
    )

    assert client.template_delete(waba_id=WABA_ID, name="delete_test_14") is None
    assert mocked.calls[0].request.url == f"{TEMPLATES_URL}/deleteTemplate?nameTemplate=delete_test_14&wabaid={WABA_ID}"


def test_template_delete_success_false_is_a_refusal(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.delete(f"{TEMPLATES_URL}/deleteTemplate", json={"success": False})

    with pytest.raises(ProviderRejected, match="delete_test_14"):
        client.template_delete(waba_id=WABA_ID, name="delete_test_14")


def test_template_delete_without_a_success_flag_is_a_bad_response(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.delete(f"{TEMPLATES_URL}/deleteTemplate", body="")

    with pytest.raises(ProviderBadResponse):
        client.template_delete(waba_id=WABA_ID, name="delete_test_14")
