"""Admin pages for contacts, their attributes, consent (history, opt-out list, keywords) and segments.

Thin: forms check input with the services' validators, saves go through the services.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from contacts import consent, segments, selectors, services
from contacts.models import (
    AttributeDefinition,
    AttributeKind,
    ConsentEvent,
    ConsentSettings,
    ConsentSource,
    ContactImport,
    Segment,
)
from messaging.models import Contact
from waportal.admin_base import TenantAdminMixin, badge
from waportal.errors import ApplicationError


class ContactForm(forms.ModelForm):
    tags_text = forms.CharField(label=_("Tags"), required=False, help_text=_("Separated by commas."))

    class Meta:
        model = Contact
        fields = ["client", "wa_id", "profile_name", "language", "attributes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["tags_text"].initial = ", ".join(t.name for t in self.instance.tags.all())

    def clean(self):
        data = super().clean()
        client = data.get("client") or getattr(self.instance, "client", None)
        try:
            if not self.instance.pk and data.get("wa_id"):
                data["wa_id"] = services.number_normalize(data["wa_id"])
            if client is not None and data.get("attributes") is not None:
                data["attributes"] = services.attributes_clean(client_id=client.pk, values=data["attributes"] or {})
        except ApplicationError as exc:
            self.add_error("wa_id" if exc.field == "number" else "attributes", exc.message)
        data["tags"] = [t.strip() for t in (data.get("tags_text") or "").split(",") if t.strip()]
        return data


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    fields = ["created_at", "opted_out", "source", "detail", "actor"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Contact)
class ContactAdmin(TenantAdminMixin, admin.ModelAdmin):
    """A client's contacts: tags, attributes, consent with its history."""

    change_role = Role.AGENT
    form = ContactForm
    list_display = ["wa_id", "profile_name", "client", "language", "tag_list", "consent"]
    list_select_related = ["client"]
    list_filter = ["opted_out", "client", "tags"]
    search_fields = ["wa_id", "profile_name"]
    inlines = [ConsentEventInline]
    actions = ["opt_out", "opt_in"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    def get_readonly_fields(self, request, obj=None):
        return ["client", "wa_id"] if obj is not None else []

    @admin.display(description=_("tags"))
    def tag_list(self, obj: Contact) -> str:
        return ", ".join(sorted(t.name for t in obj.tags.all()))

    @admin.display(description=_("consent"), ordering="opted_out")
    def consent(self, obj: Contact) -> str:
        return badge(gettext("Opted out"), "red") if obj.opted_out else badge(gettext("Opted in"), "green")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.contact_update(actor=request.user, contact=obj, name=data.get("profile_name", ""),
                                    language=data.get("language", ""), tags=data["tags"], source=ConsentSource.ADMIN)
            Contact.objects.filter(pk=obj.pk).update(attributes=data.get("attributes") or {})
            return
        created = services.contact_create(actor=request.user, client_id=obj.client_id, number=obj.wa_id,
                                          name=obj.profile_name, language=obj.language,
                                          attributes=data.get("attributes") or {}, tags=data["tags"])
        obj.pk = created.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """Tags and consent are saved by the services; the inline is read-only."""

    def _consent(self, request, queryset, *, out: bool) -> None:
        changed = 0
        for contact in queryset.select_related("client"):
            change = consent.contact_opt_out if out else consent.contact_opt_in
            if change(actor=request.user, contact=contact, source=ConsentSource.ADMIN) is not None:
                changed += 1
        self.message_user(request, ngettext("%(n)d contact changed.", "%(n)d contacts changed.", changed)
                          % {"n": changed}, messages.SUCCESS)

    @admin.action(description=_("Opt out (no marketing templates)"))
    def opt_out(self, request, queryset):
        self._consent(request, queryset, out=True)

    @admin.action(description=_("Opt back in"))
    def opt_in(self, request, queryset):
        self._consent(request, queryset, out=False)


class ConsentEventForm(forms.ModelForm):
    """The opt-out list's add form: a number (a contact is created when it never wrote) and a reason."""

    phone = forms.CharField(label=_("phone"), help_text=_("Digits with country code."))

    class Meta:
        model = ConsentEvent
        fields = ["client", "phone", "opted_out", "detail"]

    def clean_phone(self) -> str:
        try:
            return services.number_normalize(self.cleaned_data["phone"])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message)

    def clean(self):
        data = super().clean()
        if data.get("client") is not None and data.get("phone"):
            now_out = Contact.objects.filter(client=data["client"], wa_id=data["phone"], opted_out=True).exists()
            if now_out == bool(data.get("opted_out")):
                raise forms.ValidationError(gettext("Nothing to change: the contact already is so."))
        return data


@admin.register(ConsentEvent)
class ConsentEventAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Consent history of every contact; adding one opts a number out (or in): the do-not-contact list."""

    change_role = Role.AGENT
    form = ConsentEventForm
    list_display = ["created_at", "contact", "client", "opted_out", "source", "detail", "actor"]
    list_select_related = ["contact", "client", "actor"]
    list_filter = ["opted_out", "source", "client"]
    search_fields = ["contact__wa_id", "contact__profile_name"]

    def has_change_permission(self, request, obj=None):
        return False  # history is append-only

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ["contact", "client", "opted_out", "source", "detail", "actor", "created_at"] if obj else []

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj else ["client", "phone", "opted_out", "detail"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        event = consent.consent_set_by_number(actor=request.user, client_id=data["client"].pk, digits=data["phone"],
                                              opted_out=data["opted_out"], detail=data.get("detail", ""))
        obj.pk, obj.contact, obj.source, obj.actor = event.pk, event.contact, event.source, event.actor
        obj._state.adding = False


class AttributeDefinitionForm(forms.ModelForm):
    class Meta:
        model = AttributeDefinition
        fields = ["client", "key", "label", "kind", "choices"]

    def clean(self):
        data = super().clean()
        choices = data.get("choices") or []
        if data.get("kind") == AttributeKind.CHOICE and (
                not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices)):
            self.add_error("choices", gettext("A choice attribute needs its values, as a JSON list of texts."))
        return data


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(TenantAdminMixin, admin.ModelAdmin):
    """The typed fields a client's contacts carry (text, number, date, choice)."""

    form = AttributeDefinitionForm
    list_display = ["key", "label", "kind", "client"]
    list_select_related = ["client"]
    list_filter = ["kind", "client"]

    def get_readonly_fields(self, request, obj=None):
        return ["client", "key"] if obj is not None else []


@admin.register(ConsentSettings)
class ConsentSettingsAdmin(TenantAdminMixin, admin.ModelAdmin):
    """A client's opt-out/opt-in keywords, confirmations and what opted-out contacts may still receive."""

    list_display = ["client", "keywords_out", "keywords_in", "opted_out_get_utility"]
    list_select_related = ["client"]

    @admin.display(description=_("opt-out keywords"))
    def keywords_out(self, obj) -> str:
        return ", ".join(obj.opt_out_keywords or [])

    @admin.display(description=_("opt-in keywords"))
    def keywords_in(self, obj) -> str:
        return ", ".join(obj.opt_in_keywords or [])


ATTRIBUTE_LINE = re.compile(r"^\s*([\w-]+)\s*(>=|<=|=)\s*(.*?)\s*$")
CONSENT_CHOICES = [("", _("Any")), ("opted_in", _("Opted in")), ("opted_out", _("Opted out"))]


# The campaign filters: their id field and their "any campaign in the last days" field.
CAMPAIGN_FIELDS = {"received_campaign": "received_within_days", "replied_to_campaign": "replied_within_days"}


class SegmentForm(forms.ModelForm):
    """A segment's filter as fields a person fills (tags, attributes, consent, country, activity)."""

    tags = forms.CharField(label=_("Tags (all of)"), required=False, help_text=_("Separated by commas."))
    attributes = forms.CharField(
        label=_("Attributes"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: key=value, key>=value or key<=value (e.g. city=Cali, points>=100)."))
    consent = forms.ChoiceField(label=_("Consent"), choices=CONSENT_CHOICES, required=False)
    country = forms.CharField(label=_("Country"), required=False, max_length=3,
                              help_text=_("A code such as CO, or a calling code such as 57."))
    inbound_within_days = forms.IntegerField(label=_("Wrote to us in the last … days"), required=False,
                                             min_value=0, max_value=3650)
    no_inbound_for_days = forms.IntegerField(label=_("Has not written for … days"), required=False, min_value=0,
                                             max_value=3650)
    outbound_within_days = forms.IntegerField(label=_("We wrote to them in the last … days"), required=False,
                                              min_value=0, max_value=3650)
    received_campaign = forms.IntegerField(label=_("Received the campaign (id)"), required=False, min_value=1)
    received_within_days = forms.IntegerField(label=_("Received any campaign in the last … days"), required=False,
                                              min_value=0, max_value=3650)
    replied_to_campaign = forms.IntegerField(label=_("Replied to the campaign (id)"), required=False, min_value=1)
    replied_within_days = forms.IntegerField(label=_("Replied to any campaign of the last … days"), required=False,
                                             min_value=0, max_value=3650)

    class Meta:
        model = Segment
        fields = ["client", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        filters = self.instance.filters or {}
        self.fields["tags"].initial = ", ".join(filters.get("tags") or [])
        lines = []
        for key, wanted in (filters.get("attributes") or {}).items():
            if isinstance(wanted, dict):
                lines += [f"{key}{'>=' if op == 'gte' else '<='}{value}" for op, value in wanted.items()
                          if op in ("gte", "lte")]
            else:
                lines.append(f"{key}={wanted}")
        self.fields["attributes"].initial = "\n".join(lines)
        for name in ("consent", "country", "inbound_within_days", "no_inbound_for_days", "outbound_within_days"):
            self.fields[name].initial = filters.get(name)
        for key, days_field in CAMPAIGN_FIELDS.items():
            value = filters.get(key)
            if isinstance(value, dict) and "days" in value:
                self.fields[days_field].initial = value["days"]
            elif isinstance(value, dict):
                self.fields[key].initial = value.get("campaign")
            else:
                self.fields[key].initial = value

    def _attributes(self, text: str, client) -> dict:
        definitions = services.definitions_for(client.pk) if client is not None else {}
        found: dict = {}
        for line in (text or "").splitlines():
            if not line.strip():
                continue
            match = ATTRIBUTE_LINE.match(line)
            if not match:
                raise forms.ValidationError(gettext("Write each line as key=value, key>=value or key<=value."))
            key, op, raw = match.groups()
            definition = definitions.get(key)
            if definition is None:
                raise forms.ValidationError(gettext("%(key)s is not one of this client's contact attributes.")
                                            % {"key": key})
            try:
                value = services.attribute_value(definition, raw)
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message)
            if op == "=":
                found[key] = value
            else:
                current = found.get(key) if isinstance(found.get(key), dict) else {}
                found[key] = {**current, "gte" if op == ">=" else "lte": value}
        return found

    def clean(self):
        data = super().clean()
        client = data.get("client") or getattr(self.instance, "client", None)
        filters: dict = {"tags": [t.strip() for t in (data.get("tags") or "").split(",") if t.strip()]}
        try:
            filters["attributes"] = self._attributes(data.get("attributes"), client)
        except forms.ValidationError as exc:
            self.add_error("attributes", exc)
        for name in ("consent", "country", "inbound_within_days", "no_inbound_for_days", "outbound_within_days"):
            filters[name] = data.get(name)
        for key, days_field in CAMPAIGN_FIELDS.items():
            if data.get(key) is not None:
                filters[key] = data[key]
            elif data.get(days_field) is not None:
                filters[key] = {"days": data[days_field]}
        try:
            self.instance.filters = selectors.filters_clean(filters)
        except ApplicationError as exc:
            self.add_error(None, exc.message)
        return data


@admin.register(Segment)
class SegmentAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Saved contact filters; the change page shows how many contacts match now."""

    change_role = Role.AGENT
    form = SegmentForm
    change_form_template = "admin/contacts/segment/change_form.html"
    list_display = ["name", "client", "updated_at"]
    list_select_related = ["client"]
    fields = ["client", "name", "tags", "attributes", "consent", "country", "inbound_within_days",
              "no_inbound_for_days", "outbound_within_days", "received_campaign", "received_within_days",
              "replied_to_campaign", "replied_within_days"]

    def get_urls(self):
        count = path("count/", self.admin_site.admin_view(self.count_view), name="contacts_segment_count")
        return [count, *super().get_urls()]

    def count_view(self, request: HttpRequest) -> JsonResponse:
        """The live count while editing: the form as posted, counted (or why it cannot be)."""
        if request.method != "POST" or not self.has_add_permission(request):
            return JsonResponse({"count": None, "error": ""})
        form = self.get_form(request)(request.POST)
        if not form.is_valid():
            errors = [str(e) for field in form.errors.values() for e in field]
            return JsonResponse({"count": None, "error": " ".join(errors)})
        client_id = form.cleaned_data["client"].pk
        return JsonResponse({"count": segments.filters_count(client_id=client_id, filters=form.instance.filters)})

    def save_model(self, request, obj, form, change):
        if change:
            segments.segment_update(actor=request.user, segment=obj, name=obj.name, filters=obj.filters)
            return
        created = segments.segment_create(actor=request.user, client_id=obj.client_id, name=obj.name,
                                          filters=obj.filters or {})
        obj.pk = created.pk
        obj._state.adding = False


@admin.register(ContactImport)
class ContactImportAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Background CSV imports: how far each got, and the report of refused rows when done."""

    change_role = None  # read-only: imports are started from the API
    list_display = ["original_name", "client", "status", "percent", "rows_done", "created_by", "created_at"]
    list_select_related = ["client", "created_by"]
    list_filter = ["status", "client"]
    fields = ["client", "original_name", "status", "percent", "rows_done", "mapping", "report", "error",
              "created_by", "created_at", "finished_at"]
    readonly_fields = fields
