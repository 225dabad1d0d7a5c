"""Admin forms for the campaign wizard: the campaign and its file, then the column mapping.

Forms only collect input; :mod:`campaigns.services` decides and raises
:class:`ApplicationError` naming the field, which the admin puts back on the form.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import conf as accounts_conf
from accounts.models import PhoneNumber, Role
from accounts.tenancy import scope
from campaigns import conf
from campaigns.models import CampaignUpload
from campaigns.variables import Slot
from contacts.models import Segment
from templates_mgr.models import Template, TemplateStatus

COUNTRIES = [
    ("CO", _("Colombia (+57)")), ("MX", _("Mexico (+52)")), ("PE", _("Peru (+51)")), ("EC", _("Ecuador (+593)")),
    ("CL", _("Chile (+56)")), ("AR", _("Argentina (+54)")), ("VE", _("Venezuela (+58)")), ("PA", _("Panama (+507)")),
    ("CR", _("Costa Rica (+506)")), ("GT", _("Guatemala (+502)")), ("DO", _("Dominican Republic (+1)")),
    ("US", _("United States (+1)")), ("ES", _("Spain (+34)")), ("BR", _("Brazil (+55)")),
]


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Template) -> str:
        where = (obj.waba.name or obj.waba.waba_id) if obj.waba_id else _("Contacto Virtual")
        return f"{obj.name} ({obj.language}) · {where}" if obj.language else f"{obj.name} · {where}"


class CampaignNewForm(forms.Form):
    """Step 1: what to send, from which number, how fast, and the recipients' CSV."""

    name = forms.CharField(label=_("Name"), max_length=200)
    phone_number = forms.ModelChoiceField(label=_("Sender number"), queryset=PhoneNumber.objects.none())
    template = TemplateChoiceField(label=_("Template"), queryset=Template.objects.none(),
                                   help_text=_("Approved templates of your numbers' accounts."))
    pace = forms.IntegerField(label=_("Pace (messages per second)"), min_value=1)
    start_at = forms.DateTimeField(
        label=_("Start at"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty to start when you press Start on the report."),
    )
    default_country = forms.ChoiceField(
        label=_("Country of numbers without a country code"), choices=COUNTRIES, initial="CO")
    file = forms.FileField(
        label=_("Recipients (CSV)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text=_("First row: column names. One column with the phone number, one per template variable. "
                    "Comma or semicolon separated; UTF-8 or Excel's encoding."),
    )

    segment = forms.ModelChoiceField(
        label=_("Or a contact segment"), required=False, queryset=Segment.objects.none(),
        help_text=_("Its contacts now, instead of a file; who is left out and why is in the report."))
    attribute_mapping = forms.CharField(
        label=_("Variables from contact attributes"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For a segment, one per line: variable=attribute (e.g. body_1=name)."))

    def clean(self):
        data = super().clean()
        if bool(data.get("file")) == bool(data.get("segment")):
            self.add_error("file", _("Upload a CSV file or pick a segment (one of the two)."))
        mapping = {}
        for line in (data.get("attribute_mapping") or "").splitlines():
            if line.strip():
                slot, _sep, key = line.partition("=")
                mapping[slot.strip()] = key.strip()
        data["attribute_mapping"] = mapping
        return data

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = scope(Segment.objects.all(), user, "client", Role.AGENT)
        numbers = scope(PhoneNumber.objects.filter(is_active=True).select_related("client"), user, "client",
                        Role.AGENT)
        self.fields["phone_number"].queryset = numbers
        self.fields["template"].queryset = scope(
            Template.objects.filter(status=TemplateStatus.APPROVED, deleted_at__isnull=True).select_related("waba"),
            user, "client", Role.AGENT,
        ).order_by("name", "language")
        self.fields["pace"].initial = conf.setting("CAMPAIGN_DEFAULT_PACE")
        self.fields["pace"].help_text = _("At most %(limit)d for most numbers.") % {
            "limit": accounts_conf.setting("CAMPAIGN_PACE_LIMIT")}


class MappingForm(forms.Form):
    """Step 2: which column holds the phone, and which column (or fixed value) fills each variable."""

    phone_column = forms.ChoiceField(label=_("Phone column"))

    def __init__(self, *args, upload: CampaignUpload, slots: list[Slot], fixed: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        columns = [(name, name) for name in upload.columns]
        self.fields["phone_column"].choices = [("", "—")] + columns
        self.fields["phone_column"].initial = upload.phone_column
        self.slots = slots
        for slot in slots:
            self.fields[f"column__{slot.key}"] = forms.ChoiceField(
                label=slot.label, required=False, choices=[("", _("— a fixed value —"))] + columns,
                initial=(upload.mapping or {}).get(slot.key, ""),
            )
            self.fields[f"fixed__{slot.key}"] = forms.CharField(
                label=_("Fixed value for %(slot)s") % {"slot": slot.label}, required=False,
                initial=fixed.get(slot.key, ""), max_length=slot.max_length,
                help_text=_("Used for every row when no column is chosen."),
            )

    def slot_rows(self) -> list[tuple[Slot, forms.BoundField, forms.BoundField]]:
        return [(slot, self[f"column__{slot.key}"], self[f"fixed__{slot.key}"]) for slot in self.slots]

    def mapping(self) -> dict[str, str]:
        return {slot.key: self.cleaned_data.get(f"column__{slot.key}") or "" for slot in self.slots}

    def fixed(self) -> dict[str, str]:
        return {slot.key: self.cleaned_data.get(f"fixed__{slot.key}") or "" for slot in self.slots
                if not self.cleaned_data.get(f"column__{slot.key}")}
