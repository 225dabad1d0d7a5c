"""Admin pages for contacts, their attributes, consent (history, opt-out list, keywords) and segments.

Thin: forms check input with the services' validators, saves go through the services.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from contacts import consent, segments, selectors, services
from contacts.models import AttributeDefinition, AttributeKind, ConsentEvent, ConsentSettings, ConsentSource, Segment
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
        if event is None:
            self.message_user(request, gettext("Nothing changed: the contact already was so."), messages.WARNING)
            event = ConsentEvent.objects.filter(contact__client_id=data["client"].pk,
                                                contact__wa_id=data["phone"]).first()
        if event is not None:
            obj.pk = event.pk
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


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["client", "name", "filters"]

    def clean_filters(self):
        try:
            return selectors.filters_clean(self.cleaned_data.get("filters") or {})
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message)


@admin.register(Segment)
class SegmentAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Saved contact filters; the change page shows how many contacts match now."""

    change_role = Role.AGENT
    form = SegmentForm
    list_display = ["name", "client", "updated_at"]
    list_select_related = ["client"]
    fields = ["client", "name", "filters", "matching"]
    readonly_fields = ["matching"]

    @admin.display(description=_("contacts matching now"))
    def matching(self, obj: Segment) -> str:
        if obj.pk is None:
            return "—"
        try:
            return str(segments.segment_count(segment=obj))
        except ApplicationError as exc:
            return exc.message

    def save_model(self, request, obj, form, change):
        if change:
            segments.segment_update(actor=request.user, segment=obj, name=obj.name, filters=obj.filters)
            return
        created = segments.segment_create(actor=request.user, client_id=obj.client_id, name=obj.name,
                                          filters=obj.filters or {})
        obj.pk = created.pk
        obj._state.adding = False
