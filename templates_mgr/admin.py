"""Templates in the admin: the list, a read-only detail with the preview, the builder, and deletion at the provider.

A template is never edited in place: WhatsApp reviews what was submitted, so
the detail page is read-only, "Add" opens the builder (which submits to the
provider through ``templates_mgr.services.template_create``), and deleting
goes through the provider too (``deleteTemplate`` deletes every language of a
name), never a local-only delete.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from providers.base import ProviderError
from templates_mgr import selectors, services
from templates_mgr.builder import components_from_plain_text, form_initial_from_components
from templates_mgr.forms import BUTTONS_HELP, LIMITS, TemplateBuilderForm, initial_from_builder
from templates_mgr.models import Template, TemplateChange
from templates_mgr.presenters import (
    category_words,
    delete_error_words,
    quality_words,
    status_label,
    status_tone,
    status_words,
    template_preview,
)
from waportal.admin_base import TenantAdminMixin, badge
from waportal.admin_words import word_filter
from waportal.errors import ApplicationError
from waportal.words import word


class DeletedFilter(admin.SimpleListFilter):
    title = _("deleted")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", _("No")), ("yes", _("Yes"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


class TemplateChangeInline(admin.TabularInline):
    """The history of status and category changes: written by sync, events and people, never edited here."""

    model = TemplateChange
    fields = ["at", "field_display", "old_display", "new_display", "reason", "source", "actor"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("field"))
    def field_display(self, change: TemplateChange) -> str:
        return word("field", change.field)

    @admin.display(description=pgettext_lazy("value change", "from"))
    def old_display(self, change: TemplateChange) -> str:
        return change.value_words(change.old_value)

    @admin.display(description=pgettext_lazy("value change", "to"))
    def new_display(self, change: TemplateChange) -> str:
        return change.value_words(change.new_value)

    def has_view_permission(self, request, obj=None):
        # The template's own admin already decided whether this user sees it.
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _clean_cv_template_id(form) -> str:
    """The admin form's check of a typed id_template (the service checks the same; this names the field)."""
    value = (form.cleaned_data.get("provider_template_id") or "").strip()
    if value and not (value.isascii() and value.isdigit()):
        raise forms.ValidationError(
            gettext("Contacto Virtual's id_template is a number (e.g. 990), shown when the template was created."))
    return value


@admin.register(Template)
class TemplateAdmin(TenantAdminMixin, admin.ModelAdmin):
    client_path = "client"
    change_role = Role.ADMIN
    list_display = ["name", "language", "waba", "category_display", "status_badge", "problem_flag", "messages_sent_7d",
                    "messages_opened_7d", "synced_at"]
    list_filter = [("waba", admin.RelatedOnlyFieldListFilter), "status",
                   word_filter("category", "template_category", _("category")), "language", DeletedFilter]
    search_fields = ["name"]
    list_select_related = ["waba", "client__provider_account"]
    list_per_page = 100
    inlines = [TemplateChangeInline]
    change_form_template = "admin/templates_mgr/template/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "language", "waba", "client", "category_display", "status_badge", "rejected_reason",
                           "provider_template_id"]}),
        (_("Preview"), {"fields": ["preview"]}),
        (_("Performance (7 days)"), {"fields": ["quality_display", "messages_sent_7d", "messages_opened_7d",
                                                "top_block_reason"]}),
        (_("Components"), {"fields": ["components_json"]}),
        (_("Record"), {"fields": ["text", "synced_at", "created_by", "created_at", "deleted_at", "deleted_by"]}),
    ]
    readonly_fields = ["status_badge", "preview", "components_json", "quality_display", "category_display"]

    @admin.display(description=_("category"), ordering="category")
    def category_display(self, obj: Template) -> str:
        return category_words(obj.category)

    @admin.display(description=_("quality"), ordering="quality_score")
    def quality_display(self, obj: Template) -> str:
        return quality_words(obj.quality_score) or "—"

    # --- list ------------------------------------------------------------------

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Template) -> str:
        return badge(status_words(obj), status_tone(obj))


    @admin.display(description=_("problem"), ordering="status")
    def problem_flag(self, obj: Template) -> str:
        if obj.needs_provider_template_id:
            return format_html('<span class="wa-badge wa-badge-red wa-problem" title="{}">⚠ {}</span>',
                               gettext("%(provider)s needs the template's id_template to send it: open the "
                                       "template and enter it.")
                               % {"provider": obj.client.provider_account.get_provider_display()},
                               gettext("no id_template"))
        if obj.is_deleted or not obj.has_problem:
            return ""
        reason = obj.rejected_reason or obj.top_block_reason or obj.get_status_display()
        return format_html('<span class="wa-badge wa-badge-red wa-problem" title="{}">⚠ {}</span>', reason,
                           gettext("needs attention"))

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        # Deleting rows here would leave the templates alive at the provider.
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    # --- detail ------------------------------------------------------------------

    @admin.display(description=_("preview"))
    def preview(self, obj: Template) -> str:
        return render_to_string("templates_mgr/preview.html", {"preview": template_preview(obj)})

    @admin.display(description=_("components (as the provider has them)"))
    def components_json(self, obj: Template) -> str:
        return format_html('<pre class="wa-json">{}</pre>', json.dumps(obj.components, indent=2, ensure_ascii=False))

    def has_change_permission(self, request, obj=None):
        # Object pages are read-only: WhatsApp reviews what was submitted, so a
        # change is a new template built in the builder. One exception: a
        # Contacto Virtual template's id_template, which CV's listing lacks.
        if obj is not None and (not obj.capabilities.template_ids_by_hand or obj.is_deleted):
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        shown = [name for _title, options in self.fieldsets for name in options["fields"]]
        if obj is not None and obj.capabilities.template_ids_by_hand and self.has_change_permission(request, obj):
            return [name for name in shown if name != "provider_template_id"]
        return shown

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "provider_template_id" in form.base_fields:
            form.base_fields["provider_template_id"].label = gettext("Contacto Virtual id_template")
            form.base_fields["provider_template_id"].help_text = gettext(
                "The number Contacto Virtual showed when the template was created; its template list does not "
                "include it, and sending needs it.")
            form.clean_provider_template_id = _clean_cv_template_id
        return form

    def save_model(self, request, obj, form, change):
        if change and "provider_template_id" in form.changed_data:
            services.template_provider_id_set(actor=request.user, template=Template.objects.get(pk=obj.pk),
                                     provider_template_id=form.cleaned_data["provider_template_id"])
            return
        if not change:
            super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_deleted or not obj.capabilities.template_write):
            return False
        return super().has_delete_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context.update(
            compose_url=reverse("admin:messaging_message_compose") + "?" + urlencode({"template": object_id}),
            builder_copy_url=self._url("build") + "?" + urlencode({"from": object_id}),
            can_build=self.has_add_permission(request),
        )
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        query = request.GET.urlencode()
        return HttpResponseRedirect(self._url("build") + (f"?{query}" if query else ""))

    def delete_view(self, request, object_id, extra_context=None):
        return HttpResponseRedirect(self._url("delete_at_provider", quote(object_id)))

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("build/", self.admin_site.admin_view(self.build_view), name=f"{prefix}_build"),
            path("<path:object_id>/delete-at-provider/", self.admin_site.admin_view(self.delete_at_provider_view),
                 name=f"{prefix}_delete_at_provider"),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args: Any) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args,
                       current_app=self.admin_site.name)

    def _context(self, request: HttpRequest, **values: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": self.has_view_permission(request),
            **values,
        }

    # --- builder -----------------------------------------------------------------

    def builder_wabas(self, request: HttpRequest):
        return selectors.builder_wabas(request.user)

    def _builder_initial(self, request: HttpRequest, wabas) -> dict[str, Any]:
        initial: dict[str, Any] = {"language": "es"}
        source_id = request.GET.get("from")
        if source_id:
            source = self.get_queryset(request).filter(pk=source_id).first() if source_id.isdigit() else None
            if source is None:
                raise Http404(gettext("No such template."))
            components = source.components or components_from_plain_text(source.text)
            initial.update(initial_from_builder(form_initial_from_components(
                components, name=source.name, language=source.language, category=source.category
            )))
            if source.waba_id:
                initial["waba"] = source.waba_id
        waba = request.GET.get("waba")
        if waba and waba.isdigit():
            initial["waba"] = int(waba)
        elif "waba" not in initial:
            only = list(wabas[:2])
            if len(only) == 1:
                initial["waba"] = only[0].pk
        return initial

    def build_view(self, request: HttpRequest) -> HttpResponse:
        """The builder: the form with a live preview; a valid submit goes to the provider."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        wabas = self.builder_wabas(request)
        if request.method == "POST":
            form = TemplateBuilderForm(request.POST, wabas=wabas)
            if form.is_valid():
                template = form.submit(actor=request.user)
                if template is not None:
                    self.message_user(request, gettext(
                        "%(name)s (%(language)s) was sent to WhatsApp for review; its status is pending until the "
                        "provider answers.") % {"name": template.name, "language": template.language},
                        messages.SUCCESS)
                    return HttpResponseRedirect(self._url("change", quote(template.pk)))
        else:
            form = TemplateBuilderForm(initial=self._builder_initial(request, wabas), wabas=wabas)
        request.current_app = self.admin_site.name
        context = self._context(
            request,
            title=gettext("Build a template"),
            form=form,
            preview=form.preview(),
            limits=LIMITS,
            buttons_help=BUTTONS_HELP,
            example_label=gettext("Example for {{%(number)d}}") % {"number": 0},
            errors=form.errors,
            media=self.media + form.media,
        )
        return TemplateResponse(request, "admin/templates_mgr/template/build.html", context)

    # --- delete at the provider ----------------------------------------------------------

    def delete_at_provider_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirm, then delete by name at the provider: every language of the name goes."""
        pk = unquote(object_id)
        template = None
        if pk.isdigit():
            template = self.get_queryset(request).select_related("waba", "client__provider_account").filter(pk=pk).first()
        if template is None:
            raise Http404(gettext("No such template."))
        if not super().has_delete_permission(request, template):
            raise PermissionDenied
        change_url = self._url("change", quote(template.pk))
        if template.is_deleted:
            self.message_user(request, gettext("This template is already deleted."), messages.WARNING)
            return HttpResponseRedirect(change_url)
        if not template.capabilities.template_write:
            self.message_user(request, gettext("%(provider)s templates are deleted in the provider's own console; "
                                               "sync afterwards.")
                              % {"provider": template.client.provider_account.get_provider_display()},
                              messages.WARNING)
            return HttpResponseRedirect(change_url)
        siblings = selectors.template_siblings(template)
        error = ""
        if request.method == "POST":
            try:
                deleted = services.template_delete(actor=request.user, template=template)
            except ApplicationError as exc:
                error = exc.message
            except ProviderError as exc:
                error = delete_error_words(exc)
            else:
                self.message_user(request, gettext(
                    "%(name)s was deleted at the provider from WABA %(waba)s (languages: %(languages)s).")
                    % {"name": template.name, "waba": template.waba,
                       "languages": ", ".join(t.language for t in deleted) or "—"}, messages.SUCCESS)
                return HttpResponseRedirect(self._url("changelist"))
        request.current_app = self.admin_site.name
        context = self._context(
            request,
            title=gettext("Delete a template at the provider"),
            object=template,
            original=template,
            languages=[{"code": code, "status": status_label(status)} for code, status in siblings],
            error=error,
            change_url=change_url,
        )
        return TemplateResponse(request, "admin/templates_mgr/template/delete_at_provider.html", context)
