"""AldeamoClient.send: every send example of the manual goes out byte-for-byte as written there."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from providers.aldeamo import AldeamoClient, build_send_body, service_for
from providers.base import ProviderAuthError, ProviderBadResponse, ProviderRejected
from providers.types import OutboundMessage, SendResult
from tests.fixtures import fixture_text
from tests.fixtures.aldeamo_sends import MEDIA_ID, SEED_SENDS, TEXT_ID
from tests.providers.aldeamo.support import BASE_URL, JSON_APIKEY_HEADERS, fixture, message_from_seed_body


def send_url(service: str) -> str:
    return f"{BASE_URL}/v1/apikey/{service}/bsp/send"


@pytest.mark.parametrize(("request_name", "service", "response_name", "expected_id", "id_kind"), SEED_SENDS)
def test_send_posts_the_manuals_example_and_reads_its_answer(
    client: AldeamoClient,
    mocked: responses.RequestsMock,
    request_name: str,
    service: str,
    response_name: str,
    expected_id: str,
    id_kind: str,
) -> None:
    seed_body = fixture(request_name)
    wire_body = dict(seed_body)
    if "sticker" in wire_body:  # the reply example (seed 000 l.389); stickerbyurl's own (l.1200) wins
        wire_body["document"] = wire_body.pop("sticker")
    mocked.post(
        send_url(service),
        json=fixture(response_name),
        match=[matchers.header_matcher(JSON_APIKEY_HEADERS), matchers.json_params_matcher(wire_body)],
    )

    result = client.send(message_from_seed_body(seed_body))

    assert result == SendResult(message_id=expected_id, id_kind=id_kind, raw=fixture(response_name))


def test_text_message_built_by_hand_matches_the_manuals_text_example(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    message = OutboundMessage(
        from_number="57300XXXXXXXX", to="57313XXXXXXXX", type="text", content={"body": "testing!!"}, preview_url=True
    )
    mocked.post(
        send_url("text"),
        json=fixture("send_text_response"),
        match=[
            matchers.header_matcher(JSON_APIKEY_HEADERS),
            matchers.json_params_matcher(fixture("send_text_request")),
        ],
    )

    result = client.send(message)

    assert result.message_id == TEXT_ID
    assert result.id_kind == "provider"
    assert build_send_body(message) == fixture("send_text_request")
    assert client.build_send_body(message) == fixture("send_text_request")


def test_reply_built_by_hand_carries_the_context() -> None:
    message = OutboundMessage(
        from_number="57300XXXXXXX",
        to="57313XXXXXXX",
        type="text",
        content={"body": "testing!!"},
        context_message_id="wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUMVCMEFN0Y5OTRDQzERjY1Q0IA",
    )

    assert build_send_body(message) == fixture("reply_text_request")


def test_sticker_goes_under_document_as_the_stickerbyurl_example_has_it(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    seed_body = fixture("send_sticker_request")
    sticker = seed_body["document"]  # seed 000 l.1200: the endpoint's own example nests it under "document"
    intended_body = seed_body
    message = OutboundMessage(from_number="{{Origin-WA-ID}}", to="{{Recipient-WA-ID}}", type="sticker", content=sticker)
    mocked.post(
        send_url("stickerbyurl"),
        json=fixture("send_media_response"),
        match=[matchers.header_matcher(JSON_APIKEY_HEADERS), matchers.json_params_matcher(intended_body)],
    )

    result = client.send(message)

    assert result.message_id == MEDIA_ID
    assert "sticker" not in build_send_body(message)


def test_preview_url_is_sent_for_text_only_and_only_when_set() -> None:
    image = OutboundMessage(
        from_number="1", to="2", type="image", content={"link": "https://x/y.png"}, preview_url=True
    )
    text_unset = OutboundMessage(from_number="1", to="2", type="text", content={"body": "hi"})
    text_false = OutboundMessage(from_number="1", to="2", type="text", content={"body": "hi"}, preview_url=False)

    assert "preview_url" not in build_send_body(image)
    assert "preview_url" not in build_send_body(text_unset)
    assert build_send_body(text_false)["preview_url"] is False


def test_empty_recipient_type_and_context_are_left_out() -> None:
    message = OutboundMessage(from_number="1", to="2", type="location", content={}, recipient_type="")

    assert build_send_body(message) == {"from": "1", "to": "2", "type": "location", "location": {}}


@pytest.mark.parametrize(
    ("message_type", "service"),
    [
        ("text", "text"),
        ("template", "template"),
        ("image", "imagebyurl"),
        ("audio", "audiobyurl"),
        ("video", "videobyurl"),
        ("document", "docbyurl"),
        ("sticker", "stickerbyurl"),
        ("location", "location"),
        ("contacts", "contacts"),
        ("interactive", "interactive"),
    ],
)
def test_service_for_each_type(message_type: str, service: str) -> None:
    assert service_for(message_type) == service
    assert AldeamoClient.service_for(message_type) == service


def test_unknown_type_is_refused_before_any_request(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    message = OutboundMessage(from_number="1", to="2", type="reaction", content={"emoji": "👍"})

    with pytest.raises(ValueError, match="reaction"):
        client.send(message)
    assert len(mocked.calls) == 0


def test_send_headers_carry_the_api_key_not_the_isv_token(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(send_url("text"), json=fixture("send_text_response"))

    client.send(message_from_seed_body(fixture("send_text_request")))

    headers = mocked.calls[0].request.headers
    assert headers["ApiKey"] == "KMzg2MSyxYTU6Z3Eynf154VMTNu2ksn"
    assert headers["UserId"] == "3777"
    assert headers["Content-Type"] == "application/json"
    assert "token" not in headers


@pytest.mark.parametrize(
    ("body_fixture", "status", "error", "words"),
    [
        # The manual writes these bodies with a trailing comma; they must still be read.
        ("send_error_401_verbatim.txt", 401, ProviderAuthError, "Authentication Error"),
        ("send_error_400_verbatim.txt", 400, ProviderRejected, "Bad Request"),
        ("send_error_401.json", 401, ProviderAuthError, "Authentication Error"),
        ("send_error_400.json", 400, ProviderRejected, "Bad Request"),
    ],
)
def test_send_errors_carry_the_providers_words(
    client: AldeamoClient,
    mocked: responses.RequestsMock,
    body_fixture: str,
    status: int,
    error: type[Exception],
    words: str,
) -> None:
    mocked.post(
        send_url("text"), body=fixture_text("aldeamo", body_fixture), status=status, content_type="application/json"
    )

    with pytest.raises(error) as excinfo:
        client.send(message_from_seed_body(fixture("send_text_request")))

    assert str(excinfo.value) == words
    assert excinfo.value.status == status
    assert excinfo.value.body == {"errors": [words]}
    assert excinfo.value.retryable is False


@pytest.mark.parametrize(
    "answer",
    [{}, {"messageId": ""}, {"messages": []}, {"messages": [{"id": None}]}, ["messageId"], {"id": "x"}],
    ids=["empty", "blank-id", "no-messages", "null-wa-id", "list", "other-key"],
)
def test_a_success_without_an_id_is_a_bad_response_that_may_have_been_delivered(
    client: AldeamoClient, mocked: responses.RequestsMock, answer: object
) -> None:
    mocked.post(send_url("text"), json=answer)

    with pytest.raises(ProviderBadResponse) as excinfo:
        client.send(message_from_seed_body(fixture("send_text_request")))

    assert excinfo.value.maybe_delivered is True
    assert excinfo.value.retryable is False


def test_a_success_that_is_not_json_is_a_bad_response(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(send_url("text"), body="<html>OK</html>", status=200)

    with pytest.raises(ProviderBadResponse):
        client.send(message_from_seed_body(fixture("send_text_request")))
