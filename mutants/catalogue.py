"""The planted bugs ``make mutants`` runs (see :mod:`mutants.run`).

Each entry is one edit a careless change could make in a module where a silent
bug costs a customer money or privacy: ``original`` must occur exactly once in
``file`` (``tests/test_mutants_catalogue.py`` checks it, so a refactoring that
moves the code fails ``make test`` until the entry follows it), ``replacement``
is the bug, ``tests`` the test files that must fail with it. ``note`` says why
a mutant that survives is harmless or equivalent.

Last full run (2026-12-07, ``DATABASE_URL=postgres://… .venv/bin/python -m mutants.run --jobs 2``, two shared
cores): 111 mutants, 110 killed of 110 run (100 %), 1 skipped (the SQLite-only ``bulk_create`` path, killed
when run on SQLite), 311 s.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]
    note: str = ""
    postgres_only: bool = False  # the code only runs on PostgreSQL: skipped (and said so) on SQLite
    sqlite_only: bool = False  # the code only runs on SQLite: skipped on PostgreSQL
    timeout: float | None = None


WEBHOOK_TESTS = ("tests/messaging/test_webhooks.py",)
TENANCY_TESTS = ("tests/accounts/test_tenancy.py",)
RUNNER_TESTS = ("tests/campaigns/test_runner.py",)
INGEST_TESTS = ("tests/messaging/test_ingest.py",)
SEND_TESTS = ("tests/messaging/test_message_send.py",)
BATCH_TESTS = ("tests/messaging/test_template_batch.py",)
ANALYTICS_SYNC_TESTS = ("tests/analytics/test_sync.py",)
CRYPTO_TESTS = ("tests/accounts/test_crypto.py", "tests/accounts/test_secrets_never_shown.py")
ALDEAMO_TESTS = ("tests/providers/aldeamo",)
CV_TESTS = ("tests/providers/contacto_virtual",)
BASE_TESTS = ("tests/providers/test_base.py", "tests/providers/aldeamo/test_transport_errors.py")
DRY_RUN_TESTS = ("tests/campaigns/test_dry_run.py",)
CONSENT_TESTS = ("tests/contacts/test_consent_flow.py",)
MESSAGE_API_TESTS = ("tests/messaging/test_api_messages.py",)
CAMPAIGN_API_TESTS = ("tests/campaigns/test_api.py",)
ANALYTICS_API_TESTS = ("tests/analytics/test_api.py",)
TEMPLATE_API_TESTS = ("tests/templates_mgr/test_api_templates.py",)
ACCOUNT_API_TESTS = ("tests/accounts/test_tenancy.py", "tests/accounts/test_api_provider_accounts.py")

MUTANTS: list[Mutant] = [
    # --- webhook authentication (messaging/webhooks/receive.py) ------------------------------------------
    Mutant("webhook-secret-prefix", "messaging/webhooks/receive.py",
           "ProviderAccount.objects.filter(webhook_secret=secret)",
           "ProviderAccount.objects.filter(webhook_secret__startswith=secret[:8])", WEBHOOK_TESTS),
    Mutant("webhook-cache-never-expires", "messaging/webhooks/receive.py",
           "if hit is not None and hit[2] > now:", "if hit is not None:", WEBHOOK_TESTS),
    Mutant("webhook-provider-kind-unchecked", "messaging/webhooks/receive.py",
           "if found is None or found[1] != spec.id:", "if found is None:", WEBHOOK_TESTS),
    Mutant("webhook-413-only-declared", "messaging/webhooks/receive.py",
           "    if len(body) > limit:\n        return _too_large(limit)\n", "", WEBHOOK_TESTS),
    Mutant("webhook-413-declared-unchecked", "messaging/webhooks/receive.py",
           "    if declared > limit:\n        return _too_large(limit)\n", "", WEBHOOK_TESTS),
    # --- tenancy (accounts/tenancy.py) -----------------------------------------------------------
    Mutant("tenancy-role-cache-ignores-role", "accounts/tenancy.py",
           'cache_attr = f"_client_ids_{min_role}"', 'cache_attr = "_client_ids"', TENANCY_TESTS),
    Mutant("tenancy-scope-ignores-role", "accounts/tenancy.py",
           "    ids = client_ids_for(user, min_role)\n    if ids is None:\n        return queryset\n",
           "    ids = client_ids_for(user)\n    if ids is None:\n        return queryset\n", TENANCY_TESTS),
    Mutant("tenancy-rank-at-most", "accounts/tenancy.py",
           "wanted = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role(min_role)]]",
           "wanted = [role for role, rank in ROLE_RANK.items() if rank <= ROLE_RANK[Role(min_role)]]", TENANCY_TESTS),
    Mutant("tenancy-has-role-any-membership", "accounts/tenancy.py",
           "return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(min_role)]",
           "return role is not None", TEMPLATE_API_TESTS),
    Mutant("tenancy-role-in-any-client", "accounts/tenancy.py",
           "return Membership.objects.filter(user=user, client_id=client_id).values_list(\"role\", flat=True).first()",
           "return Membership.objects.filter(user=user).values_list(\"role\", flat=True).first()",
           TEMPLATE_API_TESTS),
    Mutant("tenancy-accounts-visible-to-all", "accounts/tenancy.py",
           "    if ids is None:\n        return queryset\n    return queryset.filter(pk__in=Client.objects.filter("
           "pk__in=ids).values(\"provider_account_id\"))",
           "    if ids is None:\n        return queryset\n    return queryset", ACCOUNT_API_TESTS),
    Mutant("tenancy-account-admin-any-role", "accounts/tenancy.py",
           "user=user, role=Role.ADMIN, client__provider_account=account", "user=user, client__provider_account=account",
           ("tests/security/test_api_matrix.py",)),
    Mutant("tenancy-anonymous-sees-all", "accounts/tenancy.py",
           "    if user is None or not user.is_authenticated:\n        return set()\n",
           "    if user is None:\n        return set()\n", TENANCY_TESTS),
    # --- the templates API (templates_mgr/api/views.py) ------------------------------------------
    Mutant("templates-api-list-unscoped", "templates_mgr/api/views.py",
           'return scope(queryset, self.request.user, "client")', "return queryset", TEMPLATE_API_TESTS),
    Mutant("templates-api-create-any-waba", "templates_mgr/api/views.py",
           'wabas = scope(WhatsAppBusinessAccount.objects.select_related("client__provider_account"), request.user,\n'
           '                      "client", Role.VIEWER)',
           'wabas = WhatsAppBusinessAccount.objects.select_related("client__provider_account")',
           TEMPLATE_API_TESTS),
    Mutant("templates-api-create-without-admin", "templates_mgr/api/views.py",
           'require_role(request.user, data["waba"].client_id, Role.ADMIN)',
           'require_role(request.user, data["waba"].client_id, Role.VIEWER)', TEMPLATE_API_TESTS),
    Mutant("templates-api-delete-without-admin", "templates_mgr/api/views.py",
           "        require_role(request.user, template.client_id, Role.ADMIN)\n", "", TEMPLATE_API_TESTS),
    Mutant("templates-delete-other-wabas-same-name", "templates_mgr/services.py",
           "select_for_update().filter(waba=template.waba, name=template.name,",
           "select_for_update().filter(name=template.name,", TEMPLATE_API_TESTS),
    # --- the other APIs' tenancy (each view's queryset goes through scope) -------------------------
    Mutant("messages-api-list-unscoped", "messaging/api/views.py",
           'return scope(queryset, self.request.user, "client")', "return queryset", MESSAGE_API_TESTS),
    Mutant("messages-api-send-from-any-number", "messaging/api/views.py",
           'scope(PhoneNumber.objects.select_related("client__provider_account", "waba"), user, "client")',
           'PhoneNumber.objects.select_related("client__provider_account", "waba")', MESSAGE_API_TESTS),
    Mutant("campaigns-api-list-unscoped", "campaigns/api/views.py",
           'return scope(queryset, self.request.user, "client")', "return queryset", CAMPAIGN_API_TESTS),
    Mutant("campaigns-api-any-template", "campaigns/api/views.py",
           'templates=scope(Template.objects.all(), request.user, "client"),',
           "templates=Template.objects.all(),", CAMPAIGN_API_TESTS),
    Mutant("workspace-campaigns-unscoped", "campaigns/selectors.py",
           'return scope(Campaign.objects.all(), user, "client", min_role)', "return Campaign.objects.all()",
           ("tests/workspace/test_campaigns_pages.py",), note="the workspace's campaigns pages read through it"),
    Mutant("analytics-api-any-waba", "analytics/api/views.py",
           'scope(WhatsAppBusinessAccount.objects.select_related("client__provider_account"), user, "client", '
           'min_role)', 'WhatsAppBusinessAccount.objects.select_related("client__provider_account")',
           ANALYTICS_API_TESTS),
    # --- the dry run's opt-out check (campaigns/ingest.py) ---------------------------------------
    Mutant("dry-run-opt-out-ignored", "campaigns/ingest.py",
           "opted_out = opted_out_among(", "opted_out = set() if True else opted_out_among(", DRY_RUN_TESTS),
    # --- the one opt-out read every send makes (messaging/sending/checks.py), and who writes it (contacts/) --
    Mutant("opted-out-contact-any-client", "messaging/sending/checks.py",
           "Contact.objects.filter(client_id=client_id, wa_id__in=phones, opted_out=True)",
           "Contact.objects.filter(wa_id__in=phones, opted_out=True)", (*DRY_RUN_TESTS, *RUNNER_TESTS)),
    Mutant("opted-out-contact-ignored", "messaging/sending/checks.py",
           "wa_id__in=phones, opted_out=True)", "wa_id__in=phones, opted_out=True).none()",
           (*DRY_RUN_TESTS, *RUNNER_TESTS, *CONSENT_TESTS)),
    Mutant("opted-out-get-marketing", "contacts/consent.py",
           "    if category not in (TemplateCategory.UTILITY, TemplateCategory.AUTHENTICATION):\n        return True",
           "    if category not in (TemplateCategory.UTILITY, TemplateCategory.AUTHENTICATION):\n        return False",
           CONSENT_TESTS),
    Mutant("opt-out-keyword-ignored", "contacts/consent.py",
           "    if said in {keyword_normal(k) for k in settings.opt_out_keywords or []}:\n        return True",
           "    if said in {keyword_normal(k) for k in settings.opt_out_keywords or []}:\n        return None",
           CONSENT_TESTS),
    Mutant("contacts-import-upserts-any-client", "contacts/imports.py",
           "existing = {c.wa_id: c for c in Contact.objects.filter(client_id=self.client_id,",
           "existing = {c.wa_id: c for c in Contact.objects.filter(", ("tests/contacts/test_import.py",)),
    # --- secrets at rest (accounts/crypto.py, accounts/api/serializers.py) ------------------------
    Mutant("crypto-stored-in-clear", "accounts/crypto.py",
           "    return PREFIX + fernet().encrypt(value.encode()).decode()", "    return value", CRYPTO_TESTS),
    Mutant("crypto-only-newest-key-decrypts", "accounts/crypto.py",
           'MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])',
           'MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys][:1])',
           CRYPTO_TESTS),
    Mutant("crypto-rotation-keeps-the-old-key", "accounts/crypto.py",
           "    return PREFIX + fernet().rotate(stored[len(PREFIX) :].encode()).decode()", "    return stored",
           CRYPTO_TESTS),
    Mutant("secrets-api-key-readable", "accounts/api/serializers.py",
           "    api_key = serializers.CharField(\n        write_only=True,",
           "    api_key = serializers.CharField(\n        write_only=False,", CRYPTO_TESTS),
    Mutant("secrets-cv-token-readable", "accounts/api/serializers.py",
           "    token = serializers.CharField(\n        write_only=True,",
           "    token = serializers.CharField(\n        write_only=False,", CRYPTO_TESTS),
    # --- the adapters' wire formats and error families (providers/) ------------------------------
    Mutant("aldeamo-credentials-swapped", "providers/aldeamo/client.py",
           'headers = {"ApiKey": self.api_key, "UserId": self.user_id}',
           'headers = {"ApiKey": self.user_id, "UserId": self.api_key}', ALDEAMO_TESTS),
    Mutant("aldeamo-analytics-token-is-api-key", "providers/aldeamo/client.py",
           'return {"token": self.analytics_token, "Content-Type": "application/json"}',
           'return {"token": self.api_key, "Content-Type": "application/json"}', ALDEAMO_TESTS),
    Mutant("aldeamo-reply-context-dropped", "providers/aldeamo/sending.py",
           '        body["context"] = {"message_id": message.context_message_id}\n',
           '        pass\n', ALDEAMO_TESTS),
    Mutant("aldeamo-preview-url-on-every-type", "providers/aldeamo/sending.py",
           'if message.type == "text" and message.preview_url is not None:',
           'if message.preview_url is not None:', ALDEAMO_TESTS),
    Mutant("aldeamo-whatsapp-id-read-as-provider-id", "providers/aldeamo/sending.py",
           'return SendResult(message_id=str(wa_id).strip(), id_kind="whatsapp", raw=dict(answer))',
           'return SendResult(message_id=str(wa_id).strip(), id_kind="provider", raw=dict(answer))', ALDEAMO_TESTS),
    Mutant("aldeamo-delete-other-waba", "providers/aldeamo/templates.py",
           'params={"nameTemplate": name, "wabaid": waba_id},', 'params={"nameTemplate": name},', ALDEAMO_TESTS),
    Mutant("aldeamo-body-401-is-a-rejection", "providers/aldeamo/templates.py",
           "        if status in (401, 403):\n            return ProviderAuthError(",
           "        if status in (403,):\n            return ProviderAuthError(", ALDEAMO_TESTS),
    Mutant("aldeamo-status-error-code-lost", "providers/aldeamo/webhooks.py",
           'error_code = _text(first.get("code"))', 'error_code = ""', ALDEAMO_TESTS),
    Mutant("aldeamo-status-timestamp-local", "providers/aldeamo/webhooks.py",
           "return datetime.fromtimestamp(seconds, tz=UTC)",
           "return datetime.fromtimestamp(seconds - 5 * 3600, tz=UTC)", ALDEAMO_TESTS),
    Mutant("cv-variables-unbracketed", "providers/contacto_virtual/client.py",
           'parts.append(f"[{text}]")', 'parts.append(text)', CV_TESTS),
    Mutant("cv-brackets-in-a-variable-accepted", "providers/contacto_virtual/client.py",
           '        if "[" in text or "]" in text:\n            raise ValueError(',
           '        if False:\n            raise ValueError(', CV_TESTS),
    Mutant("cv-custom-field-dropped", "providers/contacto_virtual/client.py",
           '            form["custom_field"] = request.custom_field\n', '            pass\n', CV_TESTS),
    Mutant("cv-missing-code-with-id-is-an-error", "providers/contacto_virtual/client.py",
           "if code == 1 or (raw_code is None and message_id):", "if code == 1:", CV_TESTS),
    Mutant("cv-naive-times-read-as-utc", "providers/contacto_virtual/webhooks.py",
           "        parsed = parsed.replace(tzinfo=PROVIDER_TIME_ZONE)",
           "        parsed = parsed.replace(tzinfo=timezone.utc)", CV_TESTS),
    Mutant("cv-read-time-from-the-send-time", "providers/contacto_virtual/webhooks.py",
           'when = payload.get("fecha_lectura_usuario") or payload.get("fecha_envio_por_whatsapp")',
           'when = payload.get("fecha_envio_por_whatsapp") or payload.get("fecha_lectura_usuario")', CV_TESTS),
    Mutant("cv-failure-code-dropped", "providers/contacto_virtual/webhooks.py",
           'error_code = _text(payload.get("code")) if status == "failed" else ""', 'error_code = ""', CV_TESTS),
    Mutant("cv-reply-custom-field-dropped", "providers/contacto_virtual/webhooks.py",
           'custom_field=_text(payload.get("custom_field")),', 'custom_field="",', CV_TESTS),
    Mutant("base-read-timeout-is-retryable", "providers/base.py",
           "    Not retryable for sends: the provider may have accepted the message.\n    \"\"\"\n\n"
           "    maybe_delivered = True",
           "    Not retryable for sends: the provider may have accepted the message.\n    \"\"\"\n\n"
           "    retryable = True", BASE_TESTS),
    Mutant("base-bad-answer-is-not-maybe-delivered", "providers/base.py",
           "    \"\"\"The provider answered something this adapter cannot read.\"\"\"\n\n    maybe_delivered = True",
           "    \"\"\"The provider answered something this adapter cannot read.\"\"\"\n\n    maybe_delivered = False",
           BASE_TESTS + SEND_TESTS),
    Mutant("base-429-not-retryable", "providers/base.py",
           "    \"\"\"HTTP 429: try again later.\"\"\"\n\n    retryable = True",
           "    \"\"\"HTTP 429: try again later.\"\"\"\n\n    retryable = False", BASE_TESTS + SEND_TESTS),
    Mutant("base-redirect-followed-silently", "providers/base.py",
           "        if response.is_redirect:\n            raise ProviderRejected(",
           "        if False:\n            raise ProviderRejected(", BASE_TESTS),
    # --- analytics upsert (analytics/services.py; the PostgreSQL path runs only there) -------------
    Mutant("analytics-pg-upsert-keeps-old-counts", "analytics/services.py",
           'DO UPDATE SET "end" = EXCLUDED."end", "conversations" = EXCLUDED."conversations",',
           'DO UPDATE SET "end" = EXCLUDED."end",', ANALYTICS_SYNC_TESTS, postgres_only=True),
    Mutant("analytics-pg-upsert-does-nothing", "analytics/services.py",
           'ON CONFLICT ({key}) DO UPDATE SET "end"',
           'ON CONFLICT ({key}) DO NOTHING --', ANALYTICS_SYNC_TESTS, postgres_only=True),
    Mutant("analytics-pg-upsert-keeps-old-sync-time", "analytics/services.py",
           '"synced_at" = EXCLUDED."synced_at", "client_id" = EXCLUDED."client_id"',
           '"client_id" = EXCLUDED."client_id"', ANALYTICS_SYNC_TESTS, postgres_only=True),
    Mutant("analytics-pg-upsert-keeps-old-client", "analytics/services.py",
           '"synced_at" = EXCLUDED."synced_at", "client_id" = EXCLUDED."client_id"',
           '"synced_at" = EXCLUDED."synced_at"', ANALYTICS_SYNC_TESTS, postgres_only=True),
    Mutant("analytics-upsert-keeps-old-counts", "analytics/services.py",
           'update_fields=["end", "conversations", "synced_at", "client"],',
           'update_fields=["end", "synced_at", "client"],', ANALYTICS_SYNC_TESTS, sqlite_only=True),
    Mutant("analytics-prune-deletes-fresh-rows", "analytics/services.py",
           "        ).filter(synced_at__lt=now)\n", "        )\n", ANALYTICS_SYNC_TESTS),
    Mutant("analytics-prune-other-wabas", "analytics/services.py",
           "            ConversationDataPoint.objects.filter(\n                waba=waba,\n",
           "            ConversationDataPoint.objects.filter(\n", ANALYTICS_SYNC_TESTS),
    # --- campaign claims, pace, attempts, opt-out (campaigns/runner.py, screening.py, stops.py) ---
    Mutant("runner-opt-out-ignored", "campaigns/screening.py",
           "stopped = sending.opted_out_among(", "stopped = set() if True else sending.opted_out_among(",
           RUNNER_TESTS),
    Mutant("runner-attempts-one-too-few", "campaigns/runner.py",
           "if claimed.attempts > self.max_attempts:", "if claimed.attempts >= self.max_attempts:", RUNNER_TESTS),
    Mutant("runner-attempts-one-too-many", "campaigns/runner.py",
           "if claimed.attempts > self.max_attempts:", "if claimed.attempts > self.max_attempts + 1:",
           RUNNER_TESTS),
    Mutant("runner-claim-steals-live-leases", "campaigns/claims.py",
           'open_rows = "(state = %s OR lease_until < %s)"', 'open_rows = "(state = %s OR lease_until > %s)"',
           RUNNER_TESTS),
    Mutant("runner-claim-ignores-size", "campaigns/claims.py",
           "db_param(now),\n                   size]", "db_param(now),\n                   size * 2]",
           RUNNER_TESTS),
    Mutant("runner-release-keeps-the-attempt", "campaigns/claims.py",
           "lease_until=None, attempts=F(\"attempts\") - 1)", "lease_until=None)", RUNNER_TESTS),
    Mutant("runner-pace-reserves-one-slot", "campaigns/pace.py",
           "[now, now, count * interval, campaign_id]", "[now, now, interval, campaign_id]", RUNNER_TESTS),
    Mutant("runner-pace-bucket-ignores-backlog", "campaigns/pace.py",
           "(CASE WHEN pace_next_slot > %s THEN pace_next_slot ELSE %s END) + %s",
           "(CASE WHEN pace_next_slot > %s THEN %s ELSE %s END) + %s", RUNNER_TESTS),
    Mutant("runner-pace-double", "campaigns/pace.py",
           "    interval = 1.0 / max(pace, 1)\n    now = time.time()",
           "    interval = 0.5 / max(pace, 1)\n    now = time.time()", RUNNER_TESTS),
    # A send's deadline (issue 21's 1 s window): checked in the connection right before the first byte, set
    # by the campaign's send threads and by single sends from their slot.
    Mutant("leave-unchecked-in-the-connection", "providers/leave.py",
           "leave_check()  # a kept-alive connection", "pass  # a kept-alive connection",
           ("tests/providers/test_leave.py",)),
    Mutant("leave-late-request-opens-a-connection", "providers/leave.py",
           "leave_check()  # a request already late opens no connection",
           "pass  # a request already late opens no connection", ("tests/providers/test_leave.py",)),
    Mutant("leave-handshake-held-against-the-deadline", "providers/leave.py",
           "if self.sock is not None and not self._fresh:", "if self.sock is not None:",
           ("tests/providers/test_leave.py",)),
    Mutant("leave-head-and-body-apart", "providers/leave.py",
           "if self._held is None and isinstance(data, bytes | bytearray):", "if False:",
           ("tests/providers/test_leave.py",)),
    Mutant("flight-no-send-deadline", "campaigns/pace.py",
           "with leave_by(at + self.tolerance):", "with leave_by(None):", ("tests/campaigns/test_in_flight.py",)),
    Mutant("single-send-no-deadline", "messaging/sending/delivery.py",
           "leave_by_set(number_slot(", "(number_slot(", SEND_TESTS),
    Mutant("in-place-retry-keeps-the-deadline", "messaging/sending/delivery.py",
           "leave_by_set(None)  # retried in place", "pass  # retried in place",
           ("tests/campaigns/test_in_flight.py",)),
    # The campaign's own pace is the "not before" of every slot the number's bucket grants (issue 21).
    Mutant("runner-pace-no-sleep", "campaigns/runner.py",
           "not_before=share.next(wanted=len(chunk) - index))", "not_before=0.0)", RUNNER_TESTS),
    Mutant("runner-unknown-outcome-retried", "campaigns/runner.py",
           "            if exc.maybe_delivered:\n                return self._finished(",
           "            if False:\n                return self._finished(", RUNNER_TESTS),
    Mutant("runner-auth-failure-does-not-pause", "campaigns/runner.py",
           "if recipient.error_kind == \"auth\":", "if False:", RUNNER_TESTS),
    Mutant("runner-failure-ratio-doubled", "campaigns/stops.py",
           "if failures <= ratio * window:", "if failures <= 2 * ratio * window:", RUNNER_TESTS),
    Mutant("runner-mid-chunk-control-skipped", "campaigns/runner.py",
           "                    if not self._still_running():", "                    if False:", RUNNER_TESTS),
    Mutant("runner-old-generation-keeps-sending", "campaigns/runner.py",
           "            if snap.generation != self.generation:\n                return SliceOutcome(again=False, "
           "reason=\"superseded\", sent=sent)\n", "", RUNNER_TESTS),
    Mutant("runner-reclaimed-sent-is-skipped", "campaigns/screening.py",
           "skipped = {c.id for c in out} - sent_before", "skipped = {c.id for c in out}", RUNNER_TESTS),
    # --- idempotency (messaging/sending/, campaigns/models.py) ---------------------------------
    Mutant("send-idempotency-key-ignored", "messaging/sending/send.py",
           "        existing = message_for_key(client_id=phone_number.client_id, key=key)\n"
           "        if existing is not None:\n            return replay(existing, fingerprint)\n", "", SEND_TESTS),
    Mutant("send-idempotency-key-any-client", "messaging/sending/send.py",
           "return Message.objects.filter(client_id=client_id, idempotency_key=key).first()",
           "return Message.objects.filter(idempotency_key=key).first()", SEND_TESTS),
    Mutant("send-replay-ignores-fingerprint", "messaging/sending/send.py",
           "if fingerprint and message.request_fingerprint and fingerprint != message.request_fingerprint:",
           "if False:", SEND_TESTS),
    Mutant("send-retries-maybe-delivered", "messaging/sending/delivery.py",
           "            if exc.maybe_delivered:\n                logger.warning(",
           "            if False:\n                logger.warning(", SEND_TESTS),
    Mutant("send-retries-permanent-errors", "messaging/sending/delivery.py",
           "if exc.retryable and attempt < MAX_ATTEMPTS:", "if attempt < MAX_ATTEMPTS:", SEND_TESTS),
    Mutant("send-one-attempt-too-few", "messaging/sending/delivery.py",
           "if exc.retryable and attempt < MAX_ATTEMPTS:", "if exc.retryable and attempt < MAX_ATTEMPTS - 1:",
           SEND_TESTS),
    Mutant("batch-key-already-sent-is-sent-again", "messaging/sending/batch.py",
           "                    if first.status != MessageStatus.QUEUED:\n"
           "                        results[index] = first  # handed to the provider before: never again\n"
           "                        continue\n", "", BATCH_TESTS),
    Mutant("batch-replay-ignores-fingerprint", "messaging/sending/batch.py",
           "                    replay(first, fingerprint)\n", "", BATCH_TESTS),
    Mutant("batch-send-ignores-the-queued-mark", "messaging/sending/batch.py",
           "            if message.pk not in marked:", "            if message.pk not in marked and False:",
           BATCH_TESTS),
    Mutant("batch-finish-deletes-taken-messages", "messaging/sending/batch.py",
           "Message.objects.filter(pk__in=unsent, status=MessageStatus.QUEUED).delete()",
           "Message.objects.filter(pk__in=unsent).delete()", BATCH_TESTS),
    Mutant("campaign-key-not-per-recipient", "campaigns/models.py",
           'return f"campaign:{campaign_id}:recipient:{recipient_id}"', 'return f"campaign:{campaign_id}"',
           RUNNER_TESTS),
    # --- status ordering (messaging/models.py, messaging/webhooks/)------------------------------
    Mutant("status-sideways-moves", "messaging/models.py",
           "return STATUS_RANK[MessageStatus(status)] > STATUS_RANK[MessageStatus(self.status)]",
           "return STATUS_RANK[MessageStatus(status)] >= STATUS_RANK[MessageStatus(self.status)]", INGEST_TESTS),
    Mutant("status-backwards-moves", "messaging/models.py",
           "return STATUS_RANK[MessageStatus(status)] > STATUS_RANK[MessageStatus(self.status)]",
           "return True", INGEST_TESTS),
    Mutant("status-failed-beats-read", "messaging/models.py",
           "    MessageStatus.FAILED: 5,\n    MessageStatus.READ: 6,",
           "    MessageStatus.FAILED: 7,\n    MessageStatus.READ: 6,", INGEST_TESTS),
    Mutant("status-late-timestamp-not-filled", "messaging/models.py",
           "if stamp and at is not None and getattr(self, stamp) is None:",
           "if stamp and at is not None and getattr(self, stamp) is None and self.can_become(status):",
           INGEST_TESTS),
    Mutant("ingest-batch-lookup-ignores-account", "messaging/webhooks/batch.py",
           "            if key and (account_id, key) in self._out:\n                return self._out[(account_id, key)]",
           "            for (_account, known), found in self._out.items():\n"
           "                if key and known == key:\n                    return found", INGEST_TESTS),
    Mutant("ingest-batch-lookup-not-by-whatsapp-id", "messaging/webhooks/batch.py",
           "            for key in (message.provider_message_id, message.whatsapp_id):",
           "            for key in (message.provider_message_id,):", INGEST_TESTS),
    Mutant("ingest-failed-loses-its-code", "messaging/webhooks/statuses.py",
           "        message.error_code = (error_code or \"\")[:ERROR_CODE_MAX]\n", "", INGEST_TESTS),
    Mutant("ingest-status-history-deduped-by-message-only", "messaging/webhooks/statuses.py",
           "key = (item.account_id, update.message_id, update.status)",
           "key = (item.account_id, update.message_id)", INGEST_TESTS),
    Mutant("ingest-link-any-account", "messaging/webhooks/statuses.py",
           "StatusEvent.objects.filter(provider_account_id=account_id, message__isnull=True,",
           "StatusEvent.objects.filter(message__isnull=True,", INGEST_TESTS),
    Mutant("webhook-dedupe-by-body-prefix", "messaging/webhooks/record.py",
           "return hashlib.sha256(body).hexdigest()", "return hashlib.sha256(body[:64]).hexdigest()",
           WEBHOOK_TESTS),
    Mutant("webhook-dedupe-per-second", "messaging/webhooks/record.py",
           "    key = body_sha256(body)\n", "    key = body_sha256(body + str(time.time()).encode())\n", WEBHOOK_TESTS),
    # Teams (issue 22): another client's team, round-robin turns.
    Mutant("team-of-another-client", "workspace/teams.py",
           "    if team is not None and team.client_id != conversation.client_id:",
           "    if False:", ("tests/workspace/test_teams.py",)),
    Mutant("round-robin-always-first-member", "workspace/teams.py",
           "chosen = members[team.rotation % len(members)]", "chosen = members[0]", ("tests/workspace/test_teams.py",)),
    Mutant("round-robin-without-row-lock", "workspace/teams.py",
           "team = Team.objects.select_for_update().get(pk=team_id)", "team = Team.objects.get(pk=team_id)",
           ("tests/workspace/test_teams.py",), postgres_only=True,
           note="two workers would read the same turn: only the threaded test on PostgreSQL sees it"),
]
