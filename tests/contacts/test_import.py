"""POST /api/v1/contacts/import/: CSV with a column mapping, upsert by number, a dry run, refused rows by number."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import AttributeDefinition, AttributeKind, ConsentEvent, Tag
from messaging.models import Contact

pytestmark = pytest.mark.django_db
URL = "/api/v1/contacts/import/"


def upload(api, content: bytes, mapping: dict, **extra):
    data = {"file": SimpleUploadedFile("c.csv", content, content_type="text/csv"), "mapping": json.dumps(mapping),
            **extra}
    return api.post(URL, data, format="multipart")


@pytest.fixture
def points(line):
    return AttributeDefinition.objects.create(client=line.client, key="points", label="Points",
                                              kind=AttributeKind.NUMBER)


CSV = (
    b"telefono;nombre;puntos;etiquetas;baja\n"
    b"3115550000;Ana;10;vip,bogota;\n"
    b"12345;Malo;1;;\n"
    b"+57 311 555 0001;Beto;muchos;;\n"
    b"573115550002;Carla;7;vip;si\n"
    b"311 555 0000;Ana otra vez;11;;\n"
)
MAPPING = {"telefono": "number", "nombre": "name", "puntos": "points", "etiquetas": "tags", "baja": "opted_out"}


def test_dry_run_reports_refused_rows_and_writes_nothing(api_as, agent, points):
    response = upload(api_as(agent), CSV, MAPPING, dry_run="true")
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["dry_run"] is True and report["rows"] == 5 and report["created"] == 2
    assert [(r["row"]) for r in report["refused_rows"]] == [3, 4, 6]
    assert "Points must be a number" in report["refused_rows"][1]["reason"]
    assert "row 2" in report["refused_rows"][2]["reason"]
    assert not Contact.objects.exists()


def test_import_upserts_by_number_with_tags_attributes_and_consent(api_as, agent, line, points):
    existing = Contact.objects.create(client=line.client, wa_id="573115550000", profile_name="Ana vieja",
                                      attributes={"points": 1})
    report = upload(api_as(agent), CSV, MAPPING).json()
    assert report["created"] == 1 and report["updated"] == 1 and report["refused"] == 3
    existing.refresh_from_db()
    assert existing.profile_name == "Ana" and existing.attributes == {"points": 10}
    assert set(existing.tags.values_list("name", flat=True)) == {"vip", "bogota"}
    carla = Contact.objects.get(wa_id="573115550002")
    assert carla.opted_out and ConsentEvent.objects.get(contact=carla).source == "import"
    assert set(Tag.objects.get(name="vip").contacts.all()) == {existing, carla}


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary", b"\xff\xfe\x00"])
def test_a_bad_file_is_a_400_never_a_500(api_as, agent, content):
    response = upload(api_as(agent), content, {"phone": "number"})
    assert response.status_code == 400, response.content
    assert "file" in response.json() or "mapping" in response.json()


def test_a_mapping_to_an_unknown_column_or_field_is_refused(api_as, agent):
    assert "mapping" in upload(api_as(agent), b"phone\n3115550000\n", {"celular": "number"}).json()
    assert "mapping" in upload(api_as(agent), b"phone\n3115550000\n", {"phone": "shoe_size"}).json()
    assert "mapping" in upload(api_as(agent), b"phone\n3115550000\n", {"phone": "name"}).json()


def test_windows_1252_and_a_header_only_file(api_as, agent):
    response = upload(api_as(agent), "phone,name\n3115550000,Mar\xeda\n".encode("cp1252"),
                      {"phone": "number", "name": "name"})
    assert response.status_code == 200 and Contact.objects.get().profile_name == "María"
    assert upload(api_as(agent), b"phone\n", {"phone": "number"}).json()["rows"] == 0


def test_the_import_service_reads_a_stream(agent, line):
    from contacts.imports import contacts_import

    report = contacts_import(actor=agent, client_id=line.client_id, file=io.BytesIO(b"n\n3115550000\n"),
                             mapping={"n": "number"})
    assert report["created"] == 1


def test_another_clients_contact_with_the_same_number_is_not_touched(api_as, agent, line):
    from tests.factories import ClientFactory

    theirs = Contact.objects.create(client=ClientFactory(), wa_id="573115550000", profile_name="Theirs")
    report = upload(api_as(agent), b"phone,name\n3115550000,Mine\n", {"phone": "number", "name": "name"}).json()
    assert report["created"] == 1 and report["updated"] == 0
    theirs.refresh_from_db()
    assert theirs.profile_name == "Theirs"
    assert Contact.objects.get(client=line.client).profile_name == "Mine"


def test_a_background_import_answers_202_and_shows_its_progress(api_as, agent, line, points, settings, tmp_path,
                                                                 django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from contacts import imports
    from contacts.models import ContactImport
    from contacts.tasks import contact_import_run

    settings.MEDIA_ROOT = tmp_path
    seen = []
    original = imports.contacts_import

    def spy(**kwargs):
        inner = kwargs["progress"]

        def progress(rows):
            inner(rows)
            seen.append(ContactImport.objects.values_list("rows_done", "percent").get())
        return original(**{**kwargs, "progress": progress})

    rows = "".join(f"311555{i:04d},Cliente {i},{i}\n" for i in range(1200)).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api_as(agent), b"phone,name,points\n" + rows,
                          {"phone": "number", "name": "name", "points": "points"}, background="true")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued" and response["Location"].endswith(
        f"/api/v1/contact-imports/{response.json()['id']}/")
    task = DBTaskResult.objects.get(task_path="contacts.tasks.contact_import_run")
    imports_module_spy = pytest.MonkeyPatch()
    imports_module_spy.setattr(imports, "contacts_import", spy)
    try:
        contact_import_run.call(**task.args_kwargs["kwargs"])
    finally:
        imports_module_spy.undo()
    assert [rows for rows, _percent in seen] == [500, 1000]
    assert 0 < seen[0][1] < seen[1][1] < 100
    polled = api_as(agent).get(response["Location"]).json()
    assert polled["status"] == "done" and polled["percent"] == 100 and polled["report"]["created"] == 1200
    assert Contact.objects.filter(client=line.client).count() == 1200
    assert not ContactImport.objects.get().file  # the stored file is gone once imported


def test_a_background_import_checks_the_mapping_before_answering(api_as, agent):
    response = upload(api_as(agent), b"phone\n3115550000\n", {"celular": "number"}, background="true")
    assert response.status_code == 400 and "mapping" in response.json()
