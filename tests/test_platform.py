"""Platform-level promises of the contract: health, schema, docs, CSP, settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz(client):
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_openapi_schema_and_docs(client, superuser):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ["/api/v1/provider-accounts/", "/api/v1/provider-accounts/{id}/sync/", "/api/v1/clients/",
                 "/api/v1/wabas/", "/api/v1/phone-numbers/"]:
        assert path in paths, path
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


@pytest.mark.django_db
def test_admin_pages_carry_a_nonce_csp(client, superuser):
    client.force_login(superuser)
    response = client.get("/admin/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    html = response.content.decode()
    nonce = policy.split("'nonce-")[1].split("'")[0]
    # Every script tag on the page carries the nonce.
    assert "<script" in html
    for line in html.splitlines():
        if "<script" in line:
            assert f'nonce="{nonce}"' in line, line


@pytest.mark.django_db
def test_language_defaults_to_spanish_and_switches(client, superuser):
    client.force_login(superuser)
    assert 'lang="es"' in client.get("/admin/").content.decode()
    english = client.get("/admin/", headers={"accept-language": "en"})
    assert 'lang="en"' in english.content.decode()


def _run_settings(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE: the browser tests' conftest sets it in this process; production never has it.
    dropped = {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="waportal.settings.production")
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _run_settings({"FIELD_ENCRYPTION_KEY": "x"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_encryption_key():
    result = _run_settings({"SECRET_KEY": "y" * 60})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set" in result.stderr


def test_production_check_deploy_is_clean():
    from cryptography.fernet import Fernet

    result = _run_settings({
        "SECRET_KEY": "prod-" + "k3Y" * 20,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "portal.example.com",
        "DATABASE_URL": "sqlite:////tmp/waportal-check.sqlite3",
    })
    assert result.returncode == 0, result.stdout + result.stderr
