"""A user of client A never sees client B's objects: API (404) and admin lists."""

import pytest


def object_urls(number):
    return [
        f"/api/v1/clients/{number.client.pk}/",
        f"/api/v1/wabas/{number.waba.pk}/",
        f"/api/v1/phone-numbers/{number.pk}/",
        f"/api/v1/provider-accounts/{number.client.provider_account.pk}/",
    ]


@pytest.mark.django_db
def test_other_tenants_objects_answer_404(api_as, tenant_pair):
    api = api_as(tenant_pair["a_user"])
    for url in object_urls(tenant_pair["a"]):
        assert api.get(url).status_code == 200, url
    for url in object_urls(tenant_pair["b"]):
        assert api.get(url).status_code == 404, url
        assert api.patch(url, {"name": "stolen"}, format="json").status_code in (404, 405), url
        assert api.delete(url).status_code in (404, 405, 403), url


@pytest.mark.django_db
@pytest.mark.parametrize("listing", ["clients", "wabas", "phone-numbers", "provider-accounts"])
def test_api_lists_show_only_own_client(api_as, tenant_pair, listing):
    body = api_as(tenant_pair["a_user"]).get(f"/api/v1/{listing}/").json()
    assert body["count"] == 1


@pytest.mark.django_db
def test_superuser_sees_everything(api_as, tenant_pair, superuser):
    assert api_as(superuser).get("/api/v1/phone-numbers/").json()["count"] == 2


@pytest.mark.django_db
def test_user_without_membership_sees_nothing(api_as, tenant_pair):
    from tests.factories import UserFactory

    api = api_as(UserFactory())
    for listing in ["clients", "wabas", "phone-numbers", "provider-accounts"]:
        assert api.get(f"/api/v1/{listing}/").json()["count"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changelist", ["accounts/client", "accounts/whatsappbusinessaccount", "accounts/phonenumber",
                   "accounts/provideraccount"]
)
def test_admin_lists_show_only_own_client(client, tenant_pair, changelist):
    client.force_login(tenant_pair["a_user"])
    page = client.get(f"/admin/{changelist}/")
    assert page.status_code == 200
    html = page.content.decode()
    a, b = tenant_pair["a"], tenant_pair["b"]
    assert a.client.provider_account.name in html or a.waba.waba_id in html or a.digits[2:] in html or str(a.client) in html
    for text in (b.waba.waba_id, b.client.provider_account.name, b.display_phone_number):
        assert text not in html, text


@pytest.mark.django_db
def test_admin_change_page_of_other_tenant_is_not_found(client, tenant_pair):
    client.force_login(tenant_pair["a_user"])
    b = tenant_pair["b"]
    response = client.get(f"/admin/accounts/phonenumber/{b.pk}/change/", follow=True)
    assert b.display_phone_number not in response.content.decode()


@pytest.mark.django_db
def test_admin_list_query_count_does_not_grow(client, superuser, django_assert_max_num_queries):
    from tests.factories import PhoneNumberFactory

    PhoneNumberFactory.create_batch(3)
    client.force_login(superuser)
    with django_assert_max_num_queries(12) as small:
        client.get("/admin/accounts/phonenumber/")
    PhoneNumberFactory.create_batch(30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/admin/accounts/phonenumber/")


@pytest.mark.django_db
def test_api_list_query_count_does_not_grow(api_as, superuser, django_assert_max_num_queries):
    from tests.factories import PhoneNumberFactory

    PhoneNumberFactory.create_batch(3)
    api = api_as(superuser)
    with django_assert_max_num_queries(10) as small:
        api.get("/api/v1/phone-numbers/")
    PhoneNumberFactory.create_batch(30)
    for listing in ["phone-numbers", "wabas", "clients", "provider-accounts"]:
        with django_assert_max_num_queries(len(small.captured_queries)):
            api.get(f"/api/v1/{listing}/")



@pytest.mark.django_db
@pytest.mark.parametrize("first", ["viewer", "admin"])
def test_one_user_object_asked_two_roles_gets_two_answers(first):
    """The per-user cache is per role: a viewer asked for admin rights after a viewer lookup gets none."""
    from accounts.models import Client, Role
    from accounts.tenancy import client_ids_for, scope
    from tests.factories import ClientFactory, MembershipFactory, UserFactory

    user = UserFactory()
    viewed, administered = ClientFactory(), ClientFactory()
    MembershipFactory(user=user, client=viewed, role=Role.VIEWER)
    MembershipFactory(user=user, client=administered, role=Role.ADMIN)
    expected = {"viewer": {viewed.pk, administered.pk}, "admin": {administered.pk}}
    order = [first, *(role for role in expected if role != first)]

    for role in order + order:
        assert client_ids_for(user, role) == expected[role], role
        assert set(scope(Client.objects.all(), user, "pk", role).values_list("pk", flat=True)) == expected[role]
    assert client_ids_for(user, Role.AGENT) == {administered.pk}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "none"])
def test_nobody_signed_in_sees_nothing_even_where_a_view_forgot_to_ask_for_a_login(tenant_pair, who):
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import Client, PhoneNumber
    from accounts.tenancy import client_ids_for, provider_accounts_visible, scope

    user = AnonymousUser() if who == "anonymous" else None
    assert client_ids_for(user) == set()
    assert not scope(Client.objects.all(), user, "pk").exists()
    assert not scope(PhoneNumber.objects.all(), user, "client").exists()
    assert not provider_accounts_visible(user).exists()
