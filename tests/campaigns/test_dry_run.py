"""The dry run: every row that will not be sent is listed with its reason, and counted."""

from __future__ import annotations

import io

import pytest

from accounts.models import AuditEntry
from campaigns import ingest, services
from campaigns.models import CampaignRecipient, CampaignStatus, RecipientState, SkipReason
from contacts.consent import consent_set_by_number
from messaging.models import Contact
from templates_mgr.models import TemplateCategory, TemplateStatus
from tests.campaigns.conftest import BODY
from tests.factories import ClientFactory, TemplateFactory
from tests.messaging.factories import ContactoVirtualTemplateFactory, contacto_virtual_number
from waportal.errors import ApplicationError

pytestmark = pytest.mark.django_db


def _rows(campaign):
    return {r.row_number: r for r in CampaignRecipient.objects.filter(campaign=campaign)}


def test_every_reason_is_reported_with_counts(agent, number, template):
    template.category = TemplateCategory.MARKETING  # opted-out contacts still get utility templates by default
    template.save(update_fields=["category"])
    Contact.objects.create(client=number.client, wa_id="573000000004", opted_out=True)
    consent_set_by_number(actor=None, client_id=number.client_id, digits="573000000005", opted_out=True,
                          source="campaign_list")
    elsewhere = ClientFactory()  # another client's opt-outs of row 1's number do not concern this campaign
    Contact.objects.create(client=elsewhere, wa_id="573000000001", opted_out=True)
    consent_set_by_number(actor=None, client_id=elsewhere.pk, digits="573000000001", opted_out=True)
    recipients = [
        {"phone": "573000000001", "variables": {"body_1": "Ana", "body_2": "lunes"}},  # 1 ok
        {"phone": "12345", "variables": {"body_1": "Ana", "body_2": "lunes"}},  # 2 bad number
        {"phone": "573000000002", "variables": {"body_1": "Ana"}},  # 3 missing variable
        {"phone": "+57 300 000 0001", "variables": {"body_1": "Otra", "body_2": "martes"}},  # 4 duplicate of 1
        {"phone": "573000000004", "variables": {"body_1": "Ana", "body_2": "lunes"}},  # 5 opted out (contact)
        {"phone": "3000000005", "variables": {"body_1": "Ana", "body_2": "lunes"}},  # 6 opted out (list), national
        {"phone": "573000000006", "variables": {"body_1": "x" * 1025, "body_2": "lunes"}},  # 7 too long
        {"phone": "573000000007", "variables": {"body_1": "línea\nnueva", "body_2": "lunes"}},  # 8 invalid value
        {"phone": "5.73E+11", "variables": {"body_1": "Ana", "body_2": "lunes"}},  # 9 excel notation
        {"phone": "12025550123", "variables": {"body_1": "Bob", "body_2": "Monday"}},  # 10 US number, no "+": ok
    ]
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=number, template=template, name="Dry", recipients=recipients)

    assert campaign.status == CampaignStatus.VALIDATED
    assert campaign.report == {
        "rows": 10, "sendable": 2, "skipped": 8,
        "reasons": {"bad_number": 2, "missing_variable": 1, "duplicate": 1, "opted_out": 2, "too_long": 1,
                    "invalid_value": 1},
    }
    assert campaign.recipient_count == 2
    rows = _rows(campaign)
    assert rows[1].skip_reason == "" and rows[1].phone == "573000000001" and rows[1].state == RecipientState.PENDING
    assert rows[10].skip_reason == "" and rows[10].phone == "12025550123"
    assert rows[2].skip_reason == SkipReason.BAD_NUMBER and rows[2].phone == "12345"
    assert rows[3].skip_reason == SkipReason.MISSING_VARIABLE and "{{2}}" in rows[3].skip_detail
    assert rows[4].skip_reason == SkipReason.DUPLICATE and "row 1" in rows[4].skip_detail
    assert rows[5].skip_reason == SkipReason.OPTED_OUT
    assert rows[6].skip_reason == SkipReason.OPTED_OUT and rows[6].phone == "573000000005"
    assert rows[7].skip_reason == SkipReason.TOO_LONG and "1025" in rows[7].skip_detail
    assert rows[8].skip_reason == SkipReason.INVALID_VALUE
    assert rows[9].skip_reason == SkipReason.BAD_NUMBER and "scientific" in rows[9].skip_detail
    assert all(r.state == RecipientState.SKIPPED for n, r in rows.items() if n not in (1, 10))
    assert AuditEntry.objects.filter(action="campaign.check", target_id=str(campaign.pk)).exists()


def test_filled_body_over_1024_characters_is_too_long(agent, number, template):
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=number, template=template, name="Long",
        recipients=[{"phone": "573000000001", "variables": {"body_1": "a" * 600, "body_2": "b" * 600}}])
    recipient = campaign.recipients.get()
    assert recipient.skip_reason == SkipReason.TOO_LONG
    assert "1024" in recipient.skip_detail or "1,024" in recipient.skip_detail


def test_fixed_values_fill_slots_and_unknown_slots_are_refused(agent, number, template):
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=number, template=template, name="Fixed", variables={"body_2": "viernes"},
        recipients=[{"phone": "573000000001", "variables": {"body_1": "Ana"}}])
    assert campaign.recipient_count == 1
    with pytest.raises(ApplicationError) as error:
        services.campaign_create_with_recipients(
            actor=agent, phone_number=number, template=template, name="Bad", variables={"body_9": "x"},
            recipients=[{"phone": "573000000001"}])
    assert error.value.field == "variables"


def test_header_media_and_url_button_slots(agent, number):
    template = TemplateFactory(waba=number.waba, components=[
        {"type": "HEADER", "format": "IMAGE"},
        {"type": "BODY", "text": "Hola {{1}}"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Sí"},
                                        {"type": "URL", "text": "Ver", "url": "https://x.co/{{1}}"}]},
    ])
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=number, template=template, name="Media",
        variables={"header_media": "https://cdn.example.com/promo.jpg"},
        recipients=[
            {"phone": "573000000001", "variables": {"body_1": "Ana", "button_1": "abc"}},
            {"phone": "573000000002", "variables": {"body_1": "Ana"}},
            {"phone": "573000000003", "variables": {"body_1": "Ana", "button_1": "abc",
                                                    "header_media": "ftp://nope"}},
        ])
    rows = _rows(campaign)
    assert rows[1].skip_reason == ""
    assert rows[2].skip_reason == SkipReason.MISSING_VARIABLE
    assert rows[3].skip_reason == SkipReason.INVALID_VALUE


def test_contacto_virtual_only_colombian_mobiles_and_no_brackets(agent):
    line = contacto_virtual_number()
    from tests.factories import MembershipFactory

    cv_agent = MembershipFactory(client=line.client, role="agent").user
    template = ContactoVirtualTemplateFactory(client=line.client)
    campaign = services.campaign_create_with_recipients(
        actor=cv_agent, phone_number=line, template=template, name="CV",
        recipients=[
            {"phone": "3001234567", "variables": {"body_1": "Ana", "body_2": "$100"}},
            {"phone": "+1 202 555 0123", "variables": {"body_1": "Bob", "body_2": "$5"}},
            {"phone": "3001234568", "variables": {"body_1": "[Ana]", "body_2": "$100"}},
        ])
    rows = _rows(campaign)
    assert rows[1].skip_reason == "" and rows[1].phone == "573001234567"
    assert rows[2].skip_reason == SkipReason.BAD_NUMBER and "Colombian" in rows[2].skip_detail
    assert rows[3].skip_reason == SkipReason.INVALID_VALUE


def test_template_must_be_approved_and_match_the_sender(agent, number, template):
    paused = TemplateFactory(waba=number.waba, status=TemplateStatus.PAUSED, components=[{"type": "BODY",
                                                                                           "text": BODY}])
    other = TemplateFactory(components=[{"type": "BODY", "text": BODY}])
    for bad in (paused, other):
        with pytest.raises(ApplicationError) as error:
            services.campaign_create(actor=agent, phone_number=number, template=bad, name="x")
        assert error.value.field == "template"


def test_pace_is_capped_by_the_number_limit(agent, number, template, settings):
    settings.CAMPAIGN_PACE_LIMIT = 80
    with pytest.raises(ApplicationError) as error:
        services.campaign_create(actor=agent, phone_number=number, template=template, name="x", pace=81)
    assert error.value.field == "pace"
    settings.CAMPAIGN_PACE_LIMITS = {number.digits: 250}
    assert services.campaign_create(actor=agent, phone_number=number, template=template, name="x", pace=250).pace == 250
    campaign = services.campaign_create(actor=agent, phone_number=number, template=template, name="default")
    assert campaign.pace == 20


def test_start_needs_the_report_to_have_been_seen(agent, number, template):
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=number, template=template, name="x",
        recipients=[{"phone": "573000000001", "variables": {"body_1": "a", "body_2": "b"}}])
    with pytest.raises(ApplicationError) as error:
        services.campaign_start(actor=agent, campaign=campaign)
    assert error.value.field == "report"
    services.campaign_report_seen(actor=agent, campaign=campaign)
    assert services.campaign_start(actor=agent, campaign=campaign).status == CampaignStatus.RUNNING


def test_a_list_with_nothing_sendable_cannot_start(agent, number, template):
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=number, template=template, name="x", recipients=[{"phone": "1"}])
    services.campaign_report_seen(actor=agent, campaign=campaign)
    with pytest.raises(ApplicationError) as error:
        services.campaign_start(actor=agent, campaign=campaign)
    assert error.value.field == "recipients"


# --- CSV ----------------------------------------------------------------------------------


def _csv(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def test_csv_semicolons_excel_encoding_and_automatic_mapping(agent, number, template):
    data = _csv("Teléfono;Nombre;Día\n3000000001;José;lunes\n3000000002;María;\n\n", "cp1252")
    fmt = ingest.csv_format(data)
    assert fmt.delimiter == ";" and fmt.encoding == "cp1252" and fmt.columns == ["Teléfono", "Nombre", "Día"]
    campaign = services.campaign_create(actor=agent, phone_number=number, template=template, name="csv")
    upload = services.campaign_upload_attach(actor=agent, campaign=campaign, file=data, original_name="lista.csv")
    assert upload.phone_column == "Teléfono"
    campaign = services.campaign_check_csv(actor=agent, campaign=campaign, phone_column="Teléfono",
                                           mapping={"body_1": "Nombre", "body_2": "Día"})
    rows = _rows(campaign)
    assert set(rows) == {2, 3}  # spreadsheet numbering; the blank line is ignored
    assert rows[2].variables == {"body_1": "José", "body_2": "lunes"} and rows[2].skip_reason == ""
    assert rows[3].skip_reason == SkipReason.MISSING_VARIABLE
    assert campaign.report["rows"] == 2


def test_csv_with_bom_and_quoted_newlines(agent, number, template):
    data = _csv('\ufeffphone,body_1,body_2\n573000000001,"Ana, la de ventas",lunes\n573000000002,"dos\nlíneas",x\n')
    campaign = services.campaign_create_with_csv(actor=agent, phone_number=number, template=template, name="bom",
                                                 file=data)
    rows = _rows(campaign)
    assert rows[2].variables["body_1"] == "Ana, la de ventas" and rows[2].skip_reason == ""
    assert rows[3].skip_reason == SkipReason.INVALID_VALUE


@pytest.mark.parametrize(
    "text, field",
    [
        ("", "file"),
        ("phone,phone\n1,2\n", "file"),
        ("name,day\nAna,lunes\n", "phone_column"),
        ("phone,other\n573000000001,x\n", "mapping"),
    ],
)
def test_csv_problems_name_the_field(agent, number, template, text, field):
    with pytest.raises(ApplicationError) as error:
        services.campaign_create_with_csv(actor=agent, phone_number=number, template=template, name="bad",
                                          file=_csv(text))
    assert error.value.field == field


def test_remapping_replaces_the_recipients(agent, number, template):
    data = _csv("phone,a,b\n573000000001,Ana,lunes\n573000000002,Bob,martes\n")
    campaign = services.campaign_create(actor=agent, phone_number=number, template=template, name="remap")
    services.campaign_upload_attach(actor=agent, campaign=campaign, file=data)
    services.campaign_check_csv(actor=agent, campaign=campaign, phone_column="phone",
                                mapping={"body_1": "a", "body_2": "b"})
    services.campaign_report_seen(actor=agent, campaign=campaign)
    campaign = services.campaign_check_csv(actor=agent, campaign=campaign, phone_column="phone",
                                           mapping={"body_1": "b", "body_2": "a"})
    assert campaign.status == CampaignStatus.VALIDATED and campaign.report_seen_at is None
    assert campaign.recipients.count() == 2
    assert _rows(campaign)[2].variables == {"body_1": "lunes", "body_2": "Ana"}


def test_viewers_cannot_create_campaigns(number, template):
    from tests.factories import MembershipFactory

    viewer = MembershipFactory(client=number.client, role="viewer").user
    with pytest.raises(ApplicationError):
        services.campaign_create(actor=viewer, phone_number=number, template=template, name="x")


# --- encodings and hostile cells (issue 19) ---------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1"])
def test_csv_encodings_are_detected(agent, number, template, encoding):
    text = "phone,body_1,body_2\n573000000001,José,mañana\n573000000002,Zoë,lunes\n"
    campaign = services.campaign_create_with_csv(actor=agent, phone_number=number, template=template,
                                                 name=encoding, file=_csv(text, encoding))
    rows = _rows(campaign)
    assert rows[2].variables == {"body_1": "José", "body_2": "mañana"} and rows[2].skip_reason == ""
    assert rows[3].variables["body_1"] == "Zoë"
    assert campaign.report["sendable"] == 2


def test_csv_nul_and_oversized_cells_are_reported_per_row(agent, number, template, settings):
    text = ("phone,body_1,body_2\n573000000001,Ana,lunes\n573000000002,A\x00na,lunes\n"
            f'573000000003,"{"x" * 1_000_000}",lunes\n573000000004,"{"y" * 5000}",lunes\n573000000005,Eva,martes\n')
    campaign = services.campaign_create_with_csv(actor=agent, phone_number=number, template=template,
                                                 name="hostile", file=_csv(text))
    rows = _rows(campaign)
    assert rows[2].skip_reason == "" and rows[6].skip_reason == ""
    assert rows[3].skip_reason == SkipReason.INVALID_VALUE and "NUL" in rows[3].skip_detail
    assert "\x00" not in rows[3].phone
    assert rows[4].skip_reason == SkipReason.TOO_LONG
    assert rows[5].skip_reason == SkipReason.TOO_LONG and "body_1" in rows[5].skip_detail
    assert campaign.report["rows"] == 5 and campaign.report["sendable"] == 2
