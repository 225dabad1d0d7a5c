"""AldeamoClient ISV calls: getAnalytics, getWabaIdsByToken, getPhoneNumbers, and check_connection."""

from __future__ import annotations

from datetime import datetime

import pytest
import responses
from responses import matchers

from providers.aldeamo import AldeamoClient
from providers.base import ProviderAuthError, ProviderBadResponse, ProviderError, ProviderRejected
from providers.types import ClientWabas, ConversationPoint, PhoneNumberInfo
from tests.providers.aldeamo.support import (
    API_KEY,
    APIKEY_HEADERS,
    BASE_URL,
    TOKEN,
    TOKEN_HEADERS,
    USER_ID,
    fixture,
)

ANALYTICS_URL = f"{BASE_URL}/v1/analytics/getAnalytics"
WABAS_URL = f"{BASE_URL}/v1/analytics/getWabaIdsByToken"
PHONES_URL = f"{BASE_URL}/v1/analytics/getPhoneNumbers"
TEMPLATES_URL = f"{BASE_URL}/v1/apikey/template/getTemplates"


def seed_analytics_call(client: AldeamoClient) -> list[ConversationPoint]:
    """The call whose body is exactly the manual's getAnalytics example."""
    return client.analytics(
        waba_id="236928178367012",
        client_id=942,
        start=datetime(2022, 9, 20, 0, 0, 0),
        end=datetime(2022, 9, 20, 23, 59, 0),
        granularity="HALF_HOUR",
        phone_numbers=["573188888060", "573195679433"],
        conversation_types=("UNKNOWN", "FREE_ENTRY_POINT", "FREE_TIER", "REGULAR"),
        conversation_directions=("UNKNOWN", "USER_INITIATED", "BUSINESS_INITIATED"),
    )


# --- getAnalytics -----------------------------------------------------------


def test_analytics_posts_the_manuals_body_and_reads_every_point(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        ANALYTICS_URL,
        json=fixture("analytics_response"),
        match=[matchers.header_matcher(TOKEN_HEADERS), matchers.json_params_matcher(fixture("analytics_request"))],
    )

    points = seed_analytics_call(client)

    assert len(points) == 7
    assert points[0] == ConversationPoint(
        start=datetime(2022, 9, 20, 18, 0),
        end=datetime(2022, 9, 20, 18, 30),
        conversations=1,
        country="CO",
        phone_number="57319XXXXXXX",
        conversation_type="REGULAR",
        conversation_direction="USER_INITIATED",
    )
    assert points[4].country == "VE"
    assert points[-1].conversation_direction == "BUSINESS_INITIATED"
    assert sum(p.conversations for p in points) == 7
    headers = mocked.calls[0].request.headers
    assert "ApiKey" not in headers and "UserId" not in headers


def test_analytics_defaults_send_empty_filters_and_all_dimensions(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    expected = {
        "wabaId": "236928178367012",
        "clientId": "942",
        "conversationAnalytics": {
            "conversationStart": "2022-09-01 00:00:00",
            "conversationEnd": "2022-09-30 23:59:59",
            "granularity": "DAILY",
            "phoneNumbers": [],
            "dimensions": ["conversation_type", "conversation_direction", "phone", "country"],
            "filters": {"countryCodes": [], "conversationTypes": [], "conversationDirections": []},
        },
    }
    mocked.post(ANALYTICS_URL, json=fixture("analytics_data_not_found"), match=[matchers.json_params_matcher(expected)])

    client.analytics(
        waba_id="236928178367012",
        client_id="942",
        start=datetime(2022, 9, 1),
        end=datetime(2022, 9, 30, 23, 59, 59),
        granularity="DAILY",
    )


def test_analytics_data_not_found_is_an_empty_list(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    # The manual's empty answer is HTTP 200 with an "errors" body: neither data nor a failure.
    mocked.post(ANALYTICS_URL, json=fixture("analytics_data_not_found"), status=200)

    assert seed_analytics_call(client) == []


def test_analytics_unparseable_date_is_a_rejection_with_the_words(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(ANALYTICS_URL, json=fixture("analytics_error_400_unparseable_date"), status=400)

    with pytest.raises(ProviderRejected) as excinfo:
        seed_analytics_call(client)

    assert str(excinfo.value) == "Unparseable date: aaaa-mm-dd hh:mm:ss"
    assert excinfo.value.status == 400


def test_analytics_waba_not_the_clients_is_an_auth_error_with_the_words(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(ANALYTICS_URL, json=fixture("analytics_error_401_waba_not_client"), status=401)

    with pytest.raises(ProviderAuthError) as excinfo:
        seed_analytics_call(client)

    assert str(excinfo.value) == "WabaId ***** does not belong to the client ***"


def test_analytics_other_error_in_a_200_is_a_rejection(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(ANALYTICS_URL, json={"errors": ["granularity is required"]}, status=200)

    with pytest.raises(ProviderRejected, match="^granularity is required$"):
        seed_analytics_call(client)


def test_analytics_refuses_an_unknown_granularity_before_any_request(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    with pytest.raises(ValueError, match="HALF_HOUR"):
        client.analytics(
            waba_id="1", client_id="2", start=datetime(2022, 9, 1), end=datetime(2022, 9, 2), granularity="HOURLY"
        )
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"id": "1"},
        {"id": "1", "conversation_analytics": {"data": [{}]}},
        {"id": "1", "conversation_analytics": {"data": [{"data_points": [{"start": "2022-09-20 18:00:00"}]}]}},
        {
            "id": "1",
            "conversation_analytics": {
                "data": [{"data_points": [{"start": "20/09/2022", "end": "2022-09-20 18:30:00", "conversation": "1"}]}]
            },
        },
        {
            "id": "1",
            "conversation_analytics": {
                "data": [
                    {
                        "data_points": [
                            {"start": "2022-09-20 18:00:00", "end": "2022-09-20 18:30:00", "conversation": "x"}
                        ]
                    }
                ]
            },
        },
    ],
    ids=["no-analytics", "no-data-points", "no-end", "bad-date", "bad-count"],
)
def test_analytics_unreadable_answers(client: AldeamoClient, mocked: responses.RequestsMock, body: dict) -> None:
    mocked.post(ANALYTICS_URL, json=body)

    with pytest.raises(ProviderBadResponse):
        seed_analytics_call(client)


# --- getWabaIdsByToken --------------------------------------------------------


def test_wabas_by_token_posts_no_body_and_turns_client_ids_into_strings(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        WABAS_URL,
        json=fixture("wabas_by_token_response"),
        match=[matchers.header_matcher(TOKEN_HEADERS), matchers.json_params_matcher(None)],
    )

    clients = client.wabas_by_token()

    assert clients == [
        ClientWabas(
            client_id="942",
            waba_ids=(
                "236928178367012",
                "246351444217940",
                "110510358326040",
                "101552402682219",
                "104951372198090",
                "12345",
                "dddd",
            ),
        ),
        ClientWabas(client_id="2437", waba_ids=("3453453453535355",)),
    ]
    assert mocked.calls[0].request.body is None


def test_wabas_by_token_invalid_token_is_an_auth_error_without_the_trailing_space(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(WABAS_URL, json=fixture("wabas_by_token_error_401"), status=401)

    with pytest.raises(ProviderAuthError) as excinfo:
        client.wabas_by_token()

    assert str(excinfo.value) == "Token 6f7267fb-9134-11ed-b25b-00155d6019359 is not valid"


@pytest.mark.parametrize("body", [{"wabaIds": []}, [{"wabaIds": ["1"]}], [{"clientId": 1, "wabaIds": "1"}]])
def test_wabas_by_token_unreadable_answers(client: AldeamoClient, mocked: responses.RequestsMock, body: object) -> None:
    mocked.post(WABAS_URL, json=body)

    with pytest.raises(ProviderBadResponse):
        client.wabas_by_token()


# --- getPhoneNumbers ----------------------------------------------------------


def test_phone_numbers_sends_token_client_and_waba_as_headers(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        PHONES_URL,
        json=fixture("phone_numbers_response"),
        match=[
            matchers.header_matcher(
                {"Token": TOKEN, "ClientId": "942", "WabaId": "236928178367012", "Content-Type": "application/json"}
            ),
            matchers.json_params_matcher(None),
        ],
    )

    numbers = client.phone_numbers(client_id=942, waba_id="236928178367012")

    assert numbers == [
        PhoneNumberInfo(
            id="22548916321987987",
            display_phone_number="+57 324XXXXXXX",
            verified_name="Aldeamo Pruebas Col",
            code_verification_status="NOT_VERIFIED",
            quality_rating="UNKNOWN",
        ),
        PhoneNumberInfo(
            id="22548916321978987",
            display_phone_number="+57 324XXXXXXX",
            verified_name="Aldeamo Pruebas Col",
            code_verification_status="NOT_VERIFIED",
            quality_rating="UNKNOWN",
        ),
    ]
    assert numbers[0].digits == "57324"


def test_phone_numbers_waba_not_the_clients_is_a_rejection_with_the_words(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    # One sentence for two causes; the WABA/client mismatch is the likelier one, so not an auth error.
    mocked.post(PHONES_URL, json=fixture("phone_numbers_error_400"), status=400)

    with pytest.raises(ProviderRejected) as excinfo:
        client.phone_numbers(client_id="942", waba_id="23692817836701")

    assert not isinstance(excinfo.value, ProviderAuthError)
    assert str(excinfo.value) == fixture("phone_numbers_error_400")["errors"][0]


def test_phone_numbers_400_blaming_only_the_token_is_an_auth_error(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(PHONES_URL, json=fixture("wabas_by_token_error_401"), status=400)

    with pytest.raises(ProviderAuthError, match="is not valid$"):
        client.phone_numbers(client_id="942", waba_id="236928178367012")


def test_phone_numbers_401_is_an_auth_error(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(PHONES_URL, json=fixture("wabas_by_token_error_401"), status=401)

    with pytest.raises(ProviderAuthError):
        client.phone_numbers(client_id="942", waba_id="236928178367012")


@pytest.mark.parametrize("body", [{}, {"data": [{"id": "1"}]}, {"data": "none"}])
def test_phone_numbers_unreadable_answers(client: AldeamoClient, mocked: responses.RequestsMock, body: dict) -> None:
    mocked.post(PHONES_URL, json=body)

    with pytest.raises(ProviderBadResponse):
        client.phone_numbers(client_id="942", waba_id="236928178367012")


# --- check_connection -------------------------------------------------------


def test_check_connection_with_the_token_lists_the_wabas(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(WABAS_URL, json=fixture("wabas_by_token_response"), match=[matchers.header_matcher(TOKEN_HEADERS)])

    sentence = client.check_connection()

    assert sentence == "The analytics token works: it sees 2 clients with 8 WhatsApp Business accounts."


def test_check_connection_with_a_waba_also_checks_the_api_key(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(WABAS_URL, json=fixture("wabas_by_token_response"))
    mocked.get(
        TEMPLATES_URL,
        json=fixture("templates_list_response"),
        match=[
            matchers.header_matcher(APIKEY_HEADERS),
            matchers.query_param_matcher({"limit": "1", "wabaid": "236928178367012"}),
        ],
    )

    sentence = client.check_connection(waba_id="236928178367012")

    assert "analytics token works" in sentence
    assert "The API key works: WABA 236928178367012 lists at least one template." in sentence


def test_check_connection_without_token_uses_the_template_list(mocked: responses.RequestsMock) -> None:
    client = AldeamoClient(base_url=BASE_URL, api_key=API_KEY, user_id=USER_ID)
    mocked.get(TEMPLATES_URL, json={"status": 200, "reason": "OK", "data": {"templates": []}})

    assert client.check_connection(waba_id="1") == "The API key works: WABA 1 lists no templates yet."


def test_check_connection_with_nothing_to_check_says_what_is_missing(mocked: responses.RequestsMock) -> None:
    client = AldeamoClient(base_url=BASE_URL, api_key=API_KEY, user_id=USER_ID)

    with pytest.raises(ProviderError) as excinfo:
        client.check_connection()

    assert excinfo.value.field == "analytics_token"
    assert len(mocked.calls) == 0


def test_check_connection_with_a_bad_token_raises_the_auth_error(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(WABAS_URL, json=fixture("wabas_by_token_error_401"), status=401)

    with pytest.raises(ProviderAuthError, match="is not valid$"):
        client.check_connection()
