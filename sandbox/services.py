"""Provisioning the sandbox: the demo account and its world, and where its callbacks go.

``make demo`` calls :func:`sandbox_provision`, then
:func:`sandbox_account_update_webhook` once the portal knows its webhook URLs.
Keyword-only arguments, transactions owned here, no HTTP. The other writes
live by concern: ``services_templates.py`` (templates and their review),
``services_sends.py`` (accepted sends), ``services_analytics.py`` (analytics
history).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from .demo_world import CV_TEMPLATES, WORLD, demo_templates
from .models import (
    CodeVerificationStatus,
    QualityRating,
    SandboxAccount,
    SandboxClient,
    SandboxCVTemplate,
    SandboxPhoneNumber,
    SandboxTemplate,
    SandboxWaba,
)
from .services_analytics import sandbox_analytics_generate

DEMO_ACCOUNT_NAME = "demo"


@dataclass(frozen=True)
class SandboxCredentials:
    """What the portal needs to talk to the sandbox as if it were the two BSPs."""

    aldeamo_api_key: str
    aldeamo_user_id: str
    aldeamo_token: str
    cv_login: str
    cv_token: str


def credentials_of(account: SandboxAccount) -> SandboxCredentials:
    return SandboxCredentials(
        aldeamo_api_key=account.aldeamo_api_key,
        aldeamo_user_id=account.aldeamo_user_id,
        aldeamo_token=account.aldeamo_token,
        cv_login=account.cv_login,
        cv_token=account.cv_token,
    )


@transaction.atomic
def _world(account: SandboxAccount) -> list[SandboxWaba]:
    """Create whatever part of the demo world is missing; never duplicate or overwrite.

    Existing rows are looked up in bulk and only the missing ones are
    inserted, so a fresh world costs a dozen queries (tests build it often).
    """
    wabas: list[SandboxWaba] = []
    phones: list[SandboxPhoneNumber] = []
    for client_data in WORLD:
        client, _ = SandboxClient.objects.get_or_create(
            account=account, client_id=client_data["client_id"], defaults={"name": client_data["name"]}
        )
        for waba_data in client_data["wabas"]:
            waba, _ = SandboxWaba.objects.get_or_create(
                waba_id=waba_data["waba_id"],
                defaults={"client": client, "namespace": waba_data["namespace"], "name": waba_data["name"]},
            )
            wabas.append(waba)
            for phone_id, display, verified_name, verification, quality in waba_data["phones"]:
                phones.append(
                    SandboxPhoneNumber(
                        waba=waba,
                        phone_number_id=phone_id,
                        number="".join(ch for ch in display if ch.isdigit()),
                        display_phone_number=display,
                        verified_name=verified_name,
                        code_verification_status=CodeVerificationStatus(verification),
                        quality_rating=QualityRating(quality),
                    )
                )
    existing_phones = set(
        SandboxPhoneNumber.objects.filter(phone_number_id__in=[p.phone_number_id for p in phones]).values_list(
            "phone_number_id", flat=True
        )
    )
    SandboxPhoneNumber.objects.bulk_create([p for p in phones if p.phone_number_id not in existing_phones])

    templates = demo_templates()
    existing_templates = set(
        SandboxTemplate.objects.filter(waba__in=wabas).values_list("waba__waba_id", "name", "language")
    )
    SandboxTemplate.objects.bulk_create(
        [
            SandboxTemplate(
                waba=waba,
                template_id=data["template_id"],
                name=data["name"],
                language=data["language"],
                category=data["category"],
                status=data["status"],
                components=data["components"],
                rejected_reason=data.get("rejected_reason", ""),
            )
            for waba in wabas
            for data in templates.get(waba.waba_id, [])
            if (waba.waba_id, data["name"], data["language"]) not in existing_templates
        ]
    )
    existing_cv = set(SandboxCVTemplate.objects.filter(account=account).values_list("id_template", flat=True))
    SandboxCVTemplate.objects.bulk_create(
        [
            SandboxCVTemplate(account=account, id_template=id_template, name=name, text=text, status=status)
            for id_template, name, text, status in CV_TEMPLATES
            if id_template not in existing_cv
        ]
    )
    return wabas


def sandbox_provision(
    *, webhook_url: str = "", cv_webhook_url: str = "", seed_history_days: int = 120, now: datetime | None = None
) -> SandboxCredentials:
    """Create (or complete) the demo world and return its credentials.

    Idempotent: the second call finds the ``demo`` account and returns the
    same credentials; missing pieces are added, nothing is duplicated, and
    existing state (balances, template decisions) is left alone. Non-empty
    webhook URLs replace the stored ones. Analytics history is topped up to
    ``seed_history_days`` back from now, so a demo restarted days later has
    no gap.
    """
    with transaction.atomic():
        account = SandboxAccount.objects.filter(name=DEMO_ACCOUNT_NAME).first()
        if account is None:
            account = SandboxAccount.objects.create(
                name=DEMO_ACCOUNT_NAME,
                aldeamo_api_key=secrets.token_urlsafe(24),
                aldeamo_user_id="3777",
                aldeamo_token=str(uuid.uuid4()),
                cv_login="demo@sandbox.waportal.local",
                cv_token=secrets.token_hex(20),
                cv_balance=163,
                reply_share=0.3,
            )
        changed = []
        if webhook_url and account.webhook_url != webhook_url:
            account.webhook_url = webhook_url
            changed.append("webhook_url")
        if cv_webhook_url and account.cv_webhook_url != cv_webhook_url:
            account.cv_webhook_url = cv_webhook_url
            changed.append("cv_webhook_url")
        if changed:
            account.save(update_fields=[*changed, "updated_at"])
    wabas = _world(account)
    for waba in wabas:
        sandbox_analytics_generate(waba=waba, days=seed_history_days, now=now)
    return credentials_of(account)


def sandbox_demo_account() -> SandboxAccount | None:
    """The account :func:`sandbox_provision` made, if any."""
    return SandboxAccount.objects.filter(name=DEMO_ACCOUNT_NAME).first()


def sandbox_account_update_webhook(
    *, webhook_url: str | None = None, cv_webhook_url: str | None = None, account: SandboxAccount | None = None
) -> SandboxAccount:
    """Point the account's callbacks at the portal (``None`` leaves a URL as it is, ``""`` clears it).

    The portal only knows its webhook URLs (they embed a per-account secret)
    after its provider accounts exist, hence a separate step from provisioning.
    """
    account = account or sandbox_demo_account()
    if account is None:
        raise SandboxAccount.DoesNotExist("No sandbox account: run sandbox_provision() first.")
    fields = []
    if webhook_url is not None:
        account.webhook_url = webhook_url
        fields.append("webhook_url")
    if cv_webhook_url is not None:
        account.cv_webhook_url = cv_webhook_url
        fields.append("cv_webhook_url")
    if fields:
        account.save(update_fields=[*fields, "updated_at"])
    return account
