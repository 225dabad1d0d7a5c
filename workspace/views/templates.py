"""The templates pages: the list (search, filters, pages), a template's page (the bubble the customer sees, its
status live, reason, quality, history), the builder that checks WhatsApp's rules while typing, deletion at the
provider and "Sync templates". Permissions are the admin's own (``TemplateAdmin``); reads come from
``templates_mgr.selectors``, writes go through ``templates_mgr.services`` and the builder form."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Client, Role
from accounts.tenancy import scope
from providers.base import ProviderError
from templates_mgr import presenters, selectors, services
from templates_mgr.forms import BUTTONS_HELP, LIMITS, TemplateBuilderForm
from templates_mgr.models import Template, TemplateCategory, TemplateStatus
from waportal.errors import ApplicationError
from workspace.context import frame

PER_PAGE = 50
# The builder's fields with an error box of their own; other problems (examples, buttons) go in the summary.
CHECKED_FIELDS = ("waba", "name", "language", "category", "header_type", "header_text", "header_example",
                  "header_media_url", "body_text", "footer_text")
HISTORY_FIELDS = {"status": gettext_lazy("Status"), "category": gettext_lazy("Category"),
                  "deleted": gettext_lazy("Deleted"), "provider_template_id": gettext_lazy("Contacto Virtual id_template")}
MAX_SYNC_CLIENTS = 10


def _model_admin():
    return admin.site.get_model_admin(Template)


def _require_view(request) -> None:
    if not _model_admin().has_view_permission(request):
        raise PermissionDenied


def may_create(request) -> bool:
    return _model_admin().has_add_permission(request) and selectors.builder_wabas(request.user).exists()


def _sync_clients(request):
    return scope(Client.objects.filter(is_active=True).select_related("provider_account"), request.user, "pk",
                 Role.ADMIN).order_by("pk")


@login_required
@require_GET
def template_list(request):
    _require_view(request)
    params = {key: request.GET.get(key, "")[:100] for key in ("q", "status", "category", "language", "waba")}
    waba = int(params["waba"]) if params["waba"].isdigit() else None
    queryset = selectors.templates_listed(request.user, search=params["q"], status=params["status"],
                                          category=params["category"], language=params["language"], waba=waba)
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    context = frame(request, current="templates", title=_("Templates"))
    context.update({
        "page": page,
        "rows": [{"t": t, "status": presenters.status_words(t), "tone": presenters.status_tone(t),
                  "category": presenters.category_words(t.category)} for t in page.object_list],
        "params": params, "waba": waba,
        "query": urlencode({k: v for k, v in params.items() if v}),
        "statuses": [*TemplateStatus.choices, ("deleted", _("Deleted"))],
        "categories": TemplateCategory.choices,
        "wabas": list(selectors.template_wabas(request.user)[:200]),
        "can_create": may_create(request),
        "can_sync": _sync_clients(request).exists(),
    })
    return render(request, "workspace/templates/list.html", context)


def _status_context(template: Template) -> dict:
    changes = list(template.changes.select_related("actor")[:50])
    return {
        "template": template,
        "status": presenters.status_words(template),
        "tone": presenters.status_tone(template),
        "reason": presenters.reason_words(template.rejected_reason),
        "top_block_reason": presenters.reason_words(template.top_block_reason),
        "quality": presenters.quality_words(template.quality_score),
        "version": template.updated_at.isoformat(),
        "history": [{"c": c, "field": HISTORY_FIELDS.get(c.field, c.field),
                     "old": _value_words(c.field, c.old_value), "new": _value_words(c.field, c.new_value)}
                    for c in changes],
    }


def _value_words(field: str, value: str) -> str:
    if field in ("status", "deleted"):
        return presenters.status_label(value)
    if field == "category":
        return presenters.category_words(value)
    return value


@login_required
@require_GET
def template_detail(request, pk: int):
    _require_view(request)
    template = selectors.template_detail(request.user, pk)
    context = frame(request, current="templates", title=str(template))
    context.update(_status_context(template))
    context.update({
        "preview": presenters.template_preview(template),
        "can_delete": _model_admin().has_delete_permission(request, template),
        "can_sync": _sync_clients(request).filter(pk=template.client_id).exists(),
        "category": presenters.category_words(template.category),
    })
    return render(request, "workspace/templates/detail.html", context)


@login_required
@require_GET
def template_status(request, pk: int):
    """The live part of a template's page. Unchanged since ``?v=`` (its last change): 204, one cheap query."""
    _require_view(request)
    if selectors.template_changed_at(request.user, pk).isoformat() == request.GET.get("v"):
        return HttpResponse(status=204)
    template = selectors.template_detail(request.user, pk)
    return render(request, "workspace/templates/_status.html", _status_context(template))


@login_required
@require_http_methods(["GET", "POST"])
def template_delete(request, pk: int):
    """Confirm, then delete by name at the provider (every language of the name goes)."""
    _require_view(request)
    template = selectors.template_detail(request.user, pk)
    if not _model_admin().has_delete_permission(request, template):
        raise PermissionDenied
    error = ""
    if request.method == "POST":
        try:
            deleted = services.template_delete(actor=request.user, template=template)
        except ApplicationError as exc:
            error = exc.message
        except ProviderError as exc:
            error = presenters.delete_error_words(exc)
        else:
            messages.success(request, _("%(name)s was deleted at the provider (languages: %(languages)s).")
                             % {"name": template.name, "languages": ", ".join(t.language for t in deleted) or "—"})
            return redirect(reverse("workspace:template", args=[pk]))
    context = frame(request, current="templates", title=_("Delete a template at the provider"))
    context.update({
        "template": template, "error": error,
        "languages": [{"code": code, "status": presenters.status_label(status)}
                      for code, status in selectors.template_siblings(template)],
    })
    return render(request, "workspace/templates/delete.html", context, status=400 if error else 200)


@login_required
@require_POST
def templates_sync(request):
    """Pull the templates of the clients the user administers (a handful at a time: it runs in the request)."""
    clients = list(_sync_clients(request)[: MAX_SYNC_CLIENTS + 1])
    if not clients:
        raise PermissionDenied
    if len(clients) > MAX_SYNC_CLIENTS:
        messages.error(request, _("Sync at most %(max)d clients at once from this page: use each provider "
                                  "account's sync in Settings.") % {"max": MAX_SYNC_CLIENTS})
        return redirect(reverse("workspace:templates"))
    for client in clients:
        warnings: list[str] = []
        try:
            count = services.templates_sync_for_client(actor=request.user, client=client, warnings=warnings)
        except ProviderError as exc:
            messages.error(request, _("%(client)s: sync failed: %(words)s") % {"client": client, "words": exc.message})
            continue
        messages.success(request, ngettext("%(client)s: the provider listed %(count)d template.",
                                           "%(client)s: the provider listed %(count)d templates.", count)
                         % {"client": client, "count": count})
        for warning in warnings:
            messages.warning(request, warning)
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/templates/") else reverse("workspace:templates"))


def _builder_form(request, *, data=None) -> TemplateBuilderForm:
    if not may_create(request):
        raise PermissionDenied
    wabas = selectors.builder_wabas(request.user)
    if data is not None:
        return TemplateBuilderForm(data, wabas=wabas)
    initial = {"language": "es"}
    only = list(wabas[:2])
    if len(only) == 1:
        initial["waba"] = only[0].pk
    return TemplateBuilderForm(initial=initial, wabas=wabas)


@login_required
@require_http_methods(["GET", "POST"])
def template_new(request):
    """The builder; a valid submit creates at the provider (``TemplateBuilderForm.submit``)."""
    form = _builder_form(request, data=request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            template = form.submit(actor=request.user)
            if template is not None:
                messages.success(request, _(
                    "%(name)s (%(language)s) was sent to WhatsApp for review; its status is pending until the "
                    "provider answers.") % {"name": template.name, "language": template.language})
                return redirect(reverse("workspace:template", args=[template.pk]))
        status = 400
    context = frame(request, current="templates", title=_("Build a template"))
    context.update({"form": form, "preview": form.preview(), "limits": LIMITS, "buttons_help": BUTTONS_HELP,
                    "example_label": _("Example for {{%(number)d}}") % {"number": 0},
                    "check": _check(form, touched=None) if request.method == "POST" else None})
    return render(request, "workspace/templates/new.html", context, status=status)


def _check(form: TemplateBuilderForm, *, touched: set[str] | None) -> dict:
    """The form's problems in words, per field; ``touched``: only fields with something typed (while typing, an
    empty name is not yet a mistake)."""
    form.is_valid()
    fields, others = {}, []
    for name, errors in form.errors.items():
        if touched is not None and name != "__all__" and name not in touched:
            continue
        words = [str(e) for e in errors]
        if name in CHECKED_FIELDS:
            fields[name] = words
        else:
            label = form.fields[name].label if name in form.fields else ""
            others.extend(f"{label}: {w}" if label else w for w in words)
    return {"fields": [(name, fields.get(name, [])) for name in CHECKED_FIELDS], "others": others,
            "count": sum(len(v) for v in fields.values()) + len(others)}


@login_required
@require_POST
def template_check(request):
    """While typing: the same validation the create service runs, as per-field words and the bubble, nothing
    sent to the provider."""
    form = _builder_form(request, data=request.POST)
    touched = {name for name, value in request.POST.items() if value and name != "csrfmiddlewaretoken"}
    return render(request, "workspace/templates/_check.html",
                  {"check": _check(form, touched=touched), "preview": form.preview()})
