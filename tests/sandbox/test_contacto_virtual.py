"""Contacto Virtual: send/ with its return codes 1–8, balance/, template/."""

from __future__ import annotations

import uuid

import pytest

from sandbox.models import SandboxAccount, SandboxCVTemplate, SandboxMessage

from . import seed_examples as seeds

SEND = "/sandbox/contacto-virtual/send/"
BALANCE = "/sandbox/contacto-virtual/balance/"
TEMPLATES = "/sandbox/contacto-virtual/template/"


@pytest.fixture
def form(creds) -> dict[str, str]:
    return {"login": creds.cv_login, "token": creds.cv_token}


def test_seed_send_example_answers_code_1_and_costs_one_unit(client, form, account):
    response = client.post(SEND, {**form, **seeds.CV_SEND})

    assert response.status_code == 200
    data = response.json()
    assert list(data) == ["code", "status", "messageId"]
    assert (data["code"], data["status"]) == (1, "mensaje enviado")
    uuid.UUID(data["messageId"])
    account.refresh_from_db()
    assert account.cv_balance == 162
    message = SandboxMessage.objects.get(message_id=data["messageId"])
    assert (message.to_number, message.custom_field) == ("573102334455", "1234-5678-912554")
    assert message.body["text"].startswith("Hola Carlos, tienes un pago de $100")


def test_trailing_slash_is_optional(client, form):
    assert client.post(SEND.rstrip("/"), {**form, **seeds.CV_SEND}).json()["code"] == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"token": "wrong"}, 2),
        ({"login": "otro@example.com"}, 2),
        ({"mobile": "3102334455"}, 4),
        ({"mobile": "5731023344556"}, 4),
        ({"mobile": "583102334455"}, 4),
        ({"id_template": ""}, 6),
        ({"id_template": "12345"}, 7),
        ({"id_template": "992"}, 7),  # pending: not usable
        ({"id_template": "abc"}, 7),
        ({"template_variables": "[Carlos] [$100]"}, 8),
        ({"template_variables": ""}, 8),
    ],
)
def test_send_return_codes(client, form, change, code):
    response = client.post(SEND, {**form, **seeds.CV_SEND, **change})

    assert response.status_code == 200
    data = response.json()
    assert data["code"] == code and isinstance(data["status"], str) and data["status"]
    assert "messageId" not in data
    assert not SandboxMessage.objects.exists()


def test_code_3_without_multiagent_on_every_endpoint(client, form, account):
    SandboxAccount.objects.filter(pk=account.pk).update(cv_multiagent=False)
    for url, extra in ((SEND, seeds.CV_SEND), (BALANCE, {}), (TEMPLATES, {})):
        assert client.post(url, {**form, **extra}).json() == {"code": 3, "status": "user without multiagent/chatbot"}


@pytest.mark.parametrize("change", [{"cv_balance": 0}, {"cv_active": False}])
def test_code_5_without_balance_or_inactive(client, form, account, change):
    SandboxAccount.objects.filter(pk=account.pk).update(**change)
    assert client.post(SEND, {**form, **seeds.CV_SEND}).json()["code"] == 5


def test_balance_decreases_per_send_down_to_code_5(client, form, account):
    SandboxAccount.objects.filter(pk=account.pk).update(cv_balance=2)
    codes = [client.post(SEND, {**form, **seeds.CV_SEND}).json()["code"] for _ in range(3)]
    assert codes == [1, 1, 5]
    assert client.post(BALANCE, form).json() == {"balance": "0", "status": "success"}


def test_balance_seed_answer(client, form):
    response = client.post(BALANCE, form)
    assert response.status_code == 200 and response.json() == {"balance": "163", "status": "success"}
    assert client.post(BALANCE, {**form, "token": "x"}).json()["code"] == 2


def test_template_lists_the_approved_ones(client, form):
    data = client.post(TEMPLATES, form).json()
    assert [list(t) for t in data] == [["nombre_plantilla", "plantilla_aprobada", "status"]] * 2
    assert [t["nombre_plantilla"] for t in data] == ["Recordatorio de pago", "Asignación de cita"]
    assert "{1}" in data[1]["plantilla_aprobada"] and data[1]["status"] == "success"


def test_template_code_4_when_none_is_approved(client, form, account):
    SandboxCVTemplate.objects.filter(account=account).update(status="pending")
    assert client.post(TEMPLATES, form).json() == {"code": 4, "status": "without templates"}
    assert client.post(TEMPLATES, {"login": "x", "token": "y"}).json()["code"] == 2


def test_get_is_not_allowed(client, form):
    assert client.get(SEND, form).status_code == 405
