"""The template listing path follows the manual (seed 000 l.2353/2359: ``getTemplates``)."""

import importlib

import pytest
from django.apps import apps

from accounts.gateway import provider_client
from accounts.models import ProviderAccount
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def test_a_new_account_lists_templates_at_get_templates():
    account = ProviderAccountFactory()
    assert ProviderAccount._meta.get_field("templates_list_path").default == "getTemplates"
    assert provider_client(account).templates_list_path == "getTemplates"
    assert "getTemplates" in str(ProviderAccount._meta.get_field("templates_list_path").help_text)


def test_accounts_on_the_old_default_move_and_a_chosen_path_stays():
    old = ProviderAccountFactory(templates_list_path="getTemplate")
    chosen = ProviderAccountFactory(templates_list_path="listTemplates")
    migration = importlib.import_module("accounts.migrations.0003_templates_list_path_get_templates")

    migration.old_default_to_manual_path(apps, None)

    old.refresh_from_db()
    chosen.refresh_from_db()
    assert old.templates_list_path == "getTemplates"
    assert chosen.templates_list_path == "listTemplates"
