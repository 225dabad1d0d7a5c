"""A templates sync asks for every WABA's listing at once (a provider answers in 100-300 ms) and stores them on
its own thread, one WABA after another."""

import threading

import pytest

from providers.base import ProviderUnavailable
from providers.types import TemplateInfo
from templates_mgr import services
from templates_mgr.models import Template
from tests.factories import ClientFactory, WabaFactory


class ListingAtOnce:
    """A provider over the network whose listings return only once all of them are in flight together."""

    over_the_network = True

    def __init__(self, wabas: int, *, failing: str = "") -> None:
        self.together = threading.Barrier(wabas, timeout=5)
        self.failing = failing

    def templates_list(self, *, waba_id, limit):
        self.together.wait()  # raises BrokenBarrierError when the listings are asked one after another
        if waba_id == self.failing:
            raise ProviderUnavailable("down", status=503)
        return [TemplateInfo(name=f"t_{waba_id}", language="es", status="APPROVED", category="UTILITY",
                             components=({"type": "BODY", "text": "Hola"},), id=waba_id)]


@pytest.mark.django_db
def test_every_wabas_listing_is_asked_for_at_once_and_stored(monkeypatch):
    client = ClientFactory()
    wabas = [WabaFactory(client=client) for _ in range(3)]
    monkeypatch.setattr(services, "provider_client", lambda account: ListingAtOnce(3, failing=wabas[1].waba_id))
    warnings: list[str] = []

    total = services.templates_sync_for_account(account=client.provider_account, warnings=warnings)

    assert total == 2
    assert set(Template.objects.values_list("waba__waba_id", flat=True)) == {wabas[0].waba_id, wabas[2].waba_id}
    assert len(warnings) == 1 and wabas[1].waba_id in warnings[0]
