"""A big CSV is checked streaming: memory stays flat however many rows the file has."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from campaigns import services
from campaigns.models import CampaignRecipient

pytestmark = pytest.mark.django_db


def write_csv(path: Path, rows: int) -> int:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("telefono,nombre,dia,notas\n")
        for i in range(rows):
            phone = f"57300{i:07d}" if i % 100 else "not-a-number"
            out.write(f"{phone},Cliente número {i},lunes {i % 28},{'nota larga ' * 36}\n")
    return path.stat().st_size


def check(agent, number, template, path: Path):
    """Check the file; returns (campaign, peak bytes allocated by Python while doing it)."""
    tracemalloc.start()
    try:
        with path.open("rb") as stored:
            campaign = services.campaign_create_with_csv(
                actor=agent, phone_number=number, template=template, name=path.name, file=stored,
                mapping={"body_1": "nombre", "body_2": "dia"})
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return campaign, peak


def test_a_20000_row_file_is_checked_in_bounded_memory(agent, number, template, tmp_path, settings):
    settings.CAMPAIGN_BATCH_SIZE = 2000
    write_csv(tmp_path / "warm.csv", 50)
    small_size = write_csv(tmp_path / "small.csv", 4000)
    big_size = write_csv(tmp_path / "big.csv", 20000)
    with (tmp_path / "warm.csv").open("rb") as warm:  # first use fills caches (phone metadata, SQL)
        services.campaign_create_with_csv(actor=agent, phone_number=number, template=template, name="warm",
                                          file=warm, mapping={"body_1": "nombre", "body_2": "dia"})
    _small, small_peak = check(agent, number, template, tmp_path / "small.csv")
    big, big_peak = check(agent, number, template, tmp_path / "big.csv")

    assert big.report == {"rows": 20000, "sendable": 19800, "skipped": 200, "reasons": {"bad_number": 200}}
    assert CampaignRecipient.objects.filter(campaign=big).count() == 20000
    # Five times the rows, (almost) the same memory: only one batch is ever held.
    assert big_size > 4.9 * small_size
    assert big_peak < small_peak * 1.3 + 256 * 1024, (small_peak, big_peak)
    assert big_peak < big_size / 2, (big_peak, big_size)
