"""GET/POST/PATCH/DELETE /api/v1/contacts/: numbers normalised, typed attributes checked, tags, consent, filters."""

from __future__ import annotations

import pytest

from contacts.models import AttributeDefinition, AttributeKind, ConsentEvent, Tag
from messaging.models import Contact
from tests.factories import ClientFactory
from tests.messaging.factories import ConversationFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/contacts/"


@pytest.fixture
def attributes(line):
    client = line.client
    return [
        AttributeDefinition.objects.create(client=client, key="plan", label="Plan", kind=AttributeKind.CHOICE,
                                           choices=["basic", "gold"]),
        AttributeDefinition.objects.create(client=client, key="points", label="Points", kind=AttributeKind.NUMBER),
        AttributeDefinition.objects.create(client=client, key="birthday", label="Birthday", kind=AttributeKind.DATE),
        AttributeDefinition.objects.create(client=client, key="city", label="City"),
    ]


def test_create_normalises_the_number_and_checks_attributes(api_as, agent, attributes):
    response = api_as(agent).post(URL, {"number": "+57 311 555 0000", "name": "Laura", "language": "es",
                                        "tags": ["vip", "bogota"], "attributes": {"plan": "gold", "points": "12",
                                                                                  "birthday": "1990-04-01"}},
                                  format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == "573115550000" and body["tags"] == ["bogota", "vip"]
    assert body["attributes"] == {"plan": "gold", "points": 12, "birthday": "1990-04-01"}
    assert body["opted_out"] is False and body["consent"] is None

    again = api_as(agent).post(URL, {"number": "3115550000"}, format="json")
    assert again.status_code == 400 and "number" in again.json()


@pytest.mark.parametrize(("attributes", "field"), [
    ({"plan": "platinum"}, "attributes.plan"),
    ({"points": "muchos"}, "attributes.points"),
    ({"birthday": "32/13/2020"}, "attributes.birthday"),
    ({"unknown": "x"}, "attributes.unknown"),
])
def test_bad_attribute_values_are_refused_by_name(api_as, agent, attributes, field):
    response = api_as(agent).post(URL, {"number": "573115550000", "attributes": attributes}, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Contact.objects.exists()


def test_a_bad_number_is_refused(api_as, agent):
    response = api_as(agent).post(URL, {"number": "12345"}, format="json")
    assert response.status_code == 400 and "number" in response.json()


def test_patch_merges_attributes_and_opt_out_is_recorded_with_who(api_as, agent, line, attributes):
    contact = Contact.objects.create(client=line.client, wa_id="573115550000", attributes={"city": "Cali"})
    response = api_as(agent).patch(f"{URL}{contact.pk}/", {"attributes": {"plan": "basic"}, "opted_out": True},
                                   format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["attributes"] == {"city": "Cali", "plan": "basic"}
    assert body["opted_out"] is True and body["consent"]["source"] == "api"
    assert body["consent"]["actor"] == agent.username and len(body["consent_history"]) == 1
    assert ConsentEvent.objects.get().actor == agent


def test_list_filters(api_as, agent, line, attributes):
    a = Contact.objects.create(client=line.client, wa_id="573115550000", profile_name="Ana",
                               attributes={"plan": "gold", "points": 50})
    b = Contact.objects.create(client=line.client, wa_id="573115550001", profile_name="Beto",
                               attributes={"plan": "basic", "points": 5}, opted_out=True)
    c = Contact.objects.create(client=line.client, wa_id="12025550123", profile_name="Carl")
    Tag.objects.create(client=line.client, name="vip").contacts.add(a, b)
    Contact.objects.create(client=ClientFactory(), wa_id="573115550009")  # another client's

    def ids(query):
        response = api_as(agent).get(URL + query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {a.pk, b.pk, c.pk}
    assert ids("?tags=vip") == {a.pk, b.pk}
    assert ids("?attr.plan=gold") == {a.pk}
    assert ids("?attr.points=50") == {a.pk}  # a number attribute, written as text in the query
    assert ids("?consent=opted_out") == {b.pk}
    assert ids("?country=US") == {c.pk}
    assert ids("?search=bet") == {b.pk}
    response = api_as(agent).get(URL + "?consent=maybe")
    assert response.status_code == 400


def test_list_has_no_n_plus_one(api_as, agent, line, django_assert_max_num_queries):
    tag = Tag.objects.create(client=line.client, name="vip")
    for i in range(20):
        contact = ConversationFactory(phone_number=line, contact__wa_id=f"5731155500{i:02d}").contact
        tag.contacts.add(contact)
    api = api_as(agent)
    with django_assert_max_num_queries(8):
        response = api.get(URL)
    assert response.status_code == 200 and response.json()["count"] == 20


def test_bulk_tag_and_untag(api_as, agent, line):
    contacts = [Contact.objects.create(client=line.client, wa_id=f"57311555000{i}") for i in range(3)]
    other = Contact.objects.create(client=ClientFactory(), wa_id="573115550009")
    api = api_as(agent)
    response = api.post(URL + "tag/", {"contacts": [c.pk for c in contacts] + [other.pk], "tags": ["vip"]},
                        format="json")
    assert response.status_code == 200 and response.json() == {"contacts": 3}
    assert not other.tags.exists()
    api.post(URL + "untag/", {"contacts": [contacts[0].pk], "tags": ["vip"]}, format="json")
    assert set(Tag.objects.get(name="vip").contacts.all()) == set(contacts[1:])


def test_delete_needs_an_admin(api_as, agent, line):
    from accounts.models import Role
    from tests.messaging.factories import member

    contact = Contact.objects.create(client=line.client, wa_id="573115550000")
    assert api_as(agent).delete(f"{URL}{contact.pk}/").status_code == 403
    assert api_as(member(line, Role.ADMIN)).delete(f"{URL}{contact.pk}/").status_code == 204
    assert not Contact.objects.exists()


@pytest.mark.parametrize("query", ["?attr.points=1e300", "?attr.points=nan", "?attr.points=99999999999999999999999",
                                   "?inbound_within_days=99999999999999999999"])
def test_absurd_numbers_in_filters_are_never_a_500(api_as, agent, query):
    assert api_as(agent).get(URL + query).status_code in (200, 400)


def test_absurd_ids_in_a_bulk_tag_are_refused(api_as, agent):
    response = api_as(agent).post(URL + "tag/", {"contacts": [2**70], "tags": ["x"]}, format="json")
    assert response.status_code == 400 and "contacts" in response.json()
