import pytest
from django.core.cache import cache

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _axes_clean(db):
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()
    cache.clear()


@pytest.mark.django_db
def test_token_endpoint_gives_a_working_token(api):
    user = UserFactory(username="ana")
    response = api.post("/api/v1/auth/token/", {"username": "ana", "password": "pass-word-123"}, format="json")
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/clients/").status_code == 200
    assert user.auth_token.key == token


@pytest.mark.django_db
def test_token_endpoint_names_missing_fields(api):
    response = api.post("/api/v1/auth/token/", {"username": "ana"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


@pytest.mark.django_db
def test_token_endpoint_locks_out_after_repeated_failures(api, settings):
    UserFactory(username="ana")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        bad = api.post("/api/v1/auth/token/", {"username": "ana", "password": "wrong"}, format="json")
        assert bad.status_code in (400, 429)
    locked = api.post("/api/v1/auth/token/", {"username": "ana", "password": "pass-word-123"}, format="json")
    assert locked.status_code in (403, 429)
    assert "token" not in locked.json()


@pytest.mark.django_db
def test_admin_login_locks_out_after_repeated_failures(client, settings):
    UserFactory(username="ana")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "ana", "password": "wrong"})
    locked = client.post("/admin/login/", {"username": "ana", "password": "pass-word-123"})
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
