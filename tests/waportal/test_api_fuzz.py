"""schemathesis against the API, in-process: no server error, no answer that breaks the published schema.

Every operation of ``/api/schema/`` gets ``FUZZ_EXAMPLES`` generated requests that fit the schema and as many
that do not (seeded: the same cases every run), sent as an authenticated operator through the WSGI app.
Each case runs in a savepoint rolled back afterwards, so cases do not pile data on each other. Providers
answer 503 at once (no network). Checks: no server error (a 5xx that is not a provider's failure reported as
such), status code / content type / body as documented.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from waportal.wsgi import application

FUZZ_EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# A provider that failed (here: every provider answers 503) is answered 502/503/504 with what it said
# (``provider_error``): a documented answer about someone else's server, not a server error of the portal's.
PROVIDER_STATUSES = {502, 503, 504}


def _provider_failure(response) -> bool:
    try:
        return "provider_error" in response.json()
    except ValueError:
        return False


class _Rollback(Exception):
    pass


@pytest.fixture
def offline_providers(settings):
    from accounts import gateway
    from providers.base import sessions_clear

    settings.PROVIDER_TRANSPORT_MOUNTS = {"http://": "tests.support.fake_provider.UnavailableTransport",
                                          "https://": "tests.support.fake_provider.UnavailableTransport"}
    settings.PROVIDER_TIMEOUT = (0.5, 0.5)
    gateway._transport.cache_clear()
    sessions_clear()
    yield
    gateway._transport.cache_clear()
    sessions_clear()


@pytest.fixture
def connection_kept():
    """As Django's test client does: requests must not close the test's connection (inside its transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def some_of_everything(db):
    """Objects for the lists and details to show: both providers (a Contacto Virtual line has no WABA id)."""
    from campaigns import services as campaign_services
    from tests.factories import MembershipFactory, TemplateFactory
    from tests.messaging.factories import (
        ContactoVirtualTemplateFactory,
        ConversationFactory,
        MessageFactory,
        aldeamo_number,
        contacto_virtual_number,
    )

    aldeamo = aldeamo_number()
    line = contacto_virtual_number()
    template = TemplateFactory(waba=aldeamo.waba, components=[{"type": "BODY", "text": "Hola {{1}}"}])
    ContactoVirtualTemplateFactory(client=line.client)
    for number in (aldeamo, line):
        conversation = ConversationFactory(phone_number=number)
        MessageFactory(phone_number=number, conversation=conversation)
    agent = MembershipFactory(client=aldeamo.client, role="admin").user
    campaign_services.campaign_create_with_recipients(
        actor=agent, phone_number=aldeamo, template=template, name="Fuzz",
        recipients=[{"phone": "573001112233", "variables": {"body_1": "Ana"}}])


@pytest.mark.django_db
def test_the_api_answers_as_its_schema_says(superuser, some_of_everything, offline_providers, connection_kept,
                                            capsys):
    token = Token.objects.create(user=superuser).key
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    cases: Counter = Counter()
    statuses: Counter = Counter()
    failures: list[str] = []
    started = time.monotonic()

    def fuzz(operation, mode) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case):
            cases[mode] += 1
            try:
                with transaction.atomic():
                    response = case.call(headers=headers)
                    statuses[response.status_code // 100] += 1
                    checks = CHECKS
                    if response.status_code in PROVIDER_STATUSES and _provider_failure(response):
                        checks = CHECKS[1:]  # the provider's failure, answered as documented: not ours
                    try:
                        case.validate_response(response, checks=checks)
                    except (Exception, BaseExceptionGroup) as exc:  # recorded, not raised: every failure listed
                        failures.append(f"{operation.label} [{mode}] {response.status_code}: "
                                        f"{str(exc).strip()[:600]}")
                    raise _Rollback
            except _Rollback:
                pass

        run()

    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode)

    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[schemathesis] {sum(cases.values())} generated cases ({cases[GenerationMode.POSITIVE]} positive, "
              f"{cases[GenerationMode.NEGATIVE]} negative) over {len(operations)} "
              f"operations in {elapsed:.1f} s; answers by class {dict(sorted(statuses.items()))}; "
              f"{len(failures)} failures")
    assert not failures, "\n\n".join(failures[:40])
