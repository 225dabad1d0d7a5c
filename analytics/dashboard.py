"""The charts page's data: its filter form, the WABAs to pick from, and the page put together from the charts
of :mod:`analytics.charts`.

The admin view renders :class:`Dashboard` twice over: the charts read
``charts_json`` (a ``json_script`` block drawn by ``charts.js``) and each
CSV export is written from the very same :class:`Chart` object, so a CSV
holds exactly what its chart shows.

Queries (constant, whatever the data): 1 for the WABAs, their numbers and
which granularity each can answer with; 1 for totals and every ranking
(:func:`analytics.selectors.analytics_breakdown`); 1 for the series over
time -- or, when the range has no data, 1 for the recent syncs that explain
why; then 3 for our own messages (the funnel per number and per campaign in one
UNION, the funnel per template, failure reasons).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from typing import Any

from django import forms
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import QueryDict
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership, Role, WhatsAppBusinessAccount
from accounts.tenancy import scope
from analytics import funnels, selectors
from analytics.charts import (
    STACK_CHOICES,
    Chart,
    dimension_label,
    failures_chart,
    funnel_chart,
    funnel_table,
    over_time_chart,
    ranking_chart,
)
from analytics.filters import PointFilters, point_filters
from analytics.models import AnalyticsSync, ConversationDirection, ConversationType, Granularity
from analytics.ranges import DateRange, align_to_periods, date_range
from analytics.words import sync_words
from waportal.errors import ApplicationError

# Bars per chart stay readable: half hours only for short ranges.
MAX_DAYS = {Granularity.HALF_HOUR: 7, Granularity.DAILY: 366, Granularity.MONTHLY: 3660}
CHART_KEYS = ("over_time", "by_country", "by_number", "funnel", "templates", "campaigns", "failures")


class ChartFilterForm(forms.Form):
    """The page's filters (GET). Choices come from the WABAs the user may see."""

    client = forms.TypedChoiceField(label=gettext_lazy("Client"), required=False, coerce=int, empty_value=None)
    waba = forms.TypedMultipleChoiceField(label=gettext_lazy("WABAs"), required=False, coerce=int)
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    granularity = forms.ChoiceField(label=gettext_lazy("Granularity"), choices=Granularity.choices, required=False)
    stack = forms.ChoiceField(label=gettext_lazy("Stack by"), choices=STACK_CHOICES, required=False)
    phone_numbers = forms.MultipleChoiceField(label=gettext_lazy("Phone numbers"), required=False)
    countries = forms.CharField(
        label=gettext_lazy("Countries"),
        required=False,
        help_text=gettext_lazy("ISO codes, comma-separated, e.g. CO, PE."),
        widget=forms.TextInput(attrs={"placeholder": "CO, PE", "size": 10}),
    )
    conversation_types = forms.MultipleChoiceField(
        label=gettext_lazy("Types"),
        required=False,
        choices=ConversationType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    conversation_directions = forms.MultipleChoiceField(
        label=gettext_lazy("Directions"),
        required=False,
        choices=ConversationDirection.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args, wabas: Sequence[WabaChoice] = (), number_wabas: Sequence[WabaChoice] = (), tz: tzinfo, **kwargs
    ) -> None:
        """``number_wabas``: the WABAs whose numbers are offered (those picked), any number already chosen kept."""
        super().__init__(*args, **kwargs)
        self.tz = tz
        clients: dict[int, str] = {}
        for waba in wabas:
            clients.setdefault(waba.client_pk, waba.client_label)
        numbers: dict[str, str] = {}
        for waba in number_wabas or wabas:
            numbers.update(waba.numbers)
        every_number = {digits: label for waba in wabas for digits, label in waba.numbers.items()}
        chosen = self.data.getlist("phone_numbers") if hasattr(self.data, "getlist") else []
        for digits in chosen:
            numbers.setdefault(digits, every_number.get(digits, digits))
        self.fields["client"].choices = [("", _("All clients")), *clients.items()]
        self.fields["waba"].choices = [(w.pk, w.label) for w in wabas]
        self.fields["phone_numbers"].choices = sorted(numbers.items(), key=lambda item: item[1])
        self.fields["granularity"].initial = Granularity.DAILY
        self.fields["stack"].initial = STACK_CHOICES[0][0]
        self.fields["waba"].widget.attrs["size"] = min(6, max(2, len(wabas)))
        self.fields["phone_numbers"].widget.attrs["size"] = min(6, max(2, len(numbers)))

    def clean(self):
        cleaned = super().clean()
        cleaned["granularity"] = cleaned.get("granularity") or Granularity.DAILY
        cleaned["stack"] = cleaned.get("stack") or STACK_CHOICES[0][0]
        try:
            cleaned["range"] = date_range(start=cleaned.get("start"), end=cleaned.get("end"), tz=self.tz)
            cleaned["filters"] = point_filters(
                phone_numbers=cleaned.get("phone_numbers") or (),
                country_codes=cleaned.get("countries") or "",
                conversation_types=cleaned.get("conversation_types") or (),
                conversation_directions=cleaned.get("conversation_directions") or (),
            )
        except ApplicationError as exc:
            name = {"country_codes": "countries"}.get(exc.field or "", exc.field)
            self.add_error(name if name in self.fields else None, exc.message)
            return cleaned
        limit = MAX_DAYS[cleaned["granularity"]]
        if cleaned["range"].days > limit:
            self.add_error(
                "granularity",
                _("%(granularity)s charts cover at most %(days)d days: choose a coarser granularity or a shorter range.")
                % {"granularity": Granularity(cleaned["granularity"]).label, "days": limit},
            )
        return cleaned


def range_hint(raw: dict[str, Any], tz: tzinfo) -> DateRange:
    """The range the query string asks for, leniently (the form reports errors): used before the form is valid."""
    try:
        return date_range(start=raw.get("start") or None, end=raw.get("end") or None, tz=tz)
    except ApplicationError:
        return date_range(start=None, end=None, tz=tz)


@dataclass
class WabaChoice:
    """A WABA the user may see, with its numbers and the granularity its series is read from."""

    pk: int
    waba_id: str
    name: str
    client_pk: int
    client_label: str
    source: str
    can_sync: bool = False
    numbers: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        name = f"{self.name} · {self.waba_id}" if self.name else self.waba_id
        return f"{self.client_label} — {name}"


def waba_choices(*, wabas_qs: QuerySet, granularity: str, span: DateRange, user=None) -> list[WabaChoice]:
    """Every visible WABA with its numbers, series source and whether ``user`` may sync it, in one query.

    Numbers come through a LEFT JOIN (one row per number); the user's role in
    each WABA's client is a subquery, so the sync button costs no query.
    """
    annotations: dict[str, Any] = selectors.source_annotations(granularity=granularity, start=span.start, end=span.end)
    if user is not None and not user.is_superuser:
        annotations["my_role"] = Subquery(
            Membership.objects.filter(user=user, client=OuterRef("client")).values("role")[:1]
        )
    rows = (
        wabas_qs.order_by("client__name", "client__client_id", "waba_id")
        .annotate(**annotations)
        .values(
            "pk",
            "waba_id",
            "name",
            "client_id",
            *annotations,
            client_name=F("client__name"),
            client_provider_id=F("client__client_id"),
            digits=F("phone_numbers__digits"),
            display=F("phone_numbers__display_phone_number"),
            verified_name=F("phone_numbers__verified_name"),
        )
    )
    result: dict[int, WabaChoice] = {}
    for row in rows:
        choice = result.get(row["pk"])
        if choice is None:
            choice = result[row["pk"]] = WabaChoice(
                pk=row["pk"],
                waba_id=row["waba_id"],
                name=row["name"],
                client_pk=row["client_id"],
                client_label=row["client_name"] or _("Client %(id)s") % {"id": row["client_provider_id"]},
                source=selectors.pick_source(row, granularity),
                can_sync=user is not None and (user.is_superuser or row.get("my_role") == Role.ADMIN),
            )
        if row["digits"]:
            label = row["display"] or row["digits"]
            choice.numbers[row["digits"]] = f"{label} · {row['verified_name']}" if row["verified_name"] else label
    return list(result.values())


# --- the page -------------------------------------------------------------------------------


@dataclass
class Dashboard:
    form: ChartFilterForm
    wabas: list[WabaChoice] = field(default_factory=list)
    selected: list[WabaChoice] = field(default_factory=list)
    span: DateRange | None = None
    granularity: str = Granularity.DAILY
    breakdown: selectors.Breakdown | None = None
    charts: dict[str, Chart] = field(default_factory=dict)
    recent_syncs: list[AnalyticsSync] = field(default_factory=list)
    empty_reason: str = ""
    sync_wabas: list[WabaChoice] = field(default_factory=list)
    tz: tzinfo | None = None

    @property
    def charts_json(self) -> dict[str, Any]:
        return {key: chart.as_json() for key, chart in self.charts.items() if chart.kind != "table"}

    @property
    def totals(self) -> list[dict[str, Any]]:
        """The totals box: overall, then per type and per direction, each with the previous period."""
        if self.breakdown is None:
            return []
        items = [
            {
                "label": _("All conversations"),
                "current": self.breakdown.total,
                "previous": self.breakdown.previous_total,
                "change": self.breakdown.change,
            }
        ]
        sections = {"conversation_type": _("By conversation type"), "conversation_direction": _("By direction")}
        for dimension, section in sections.items():
            for index, row in enumerate(self.breakdown.by.get(dimension, [])):
                items.append(
                    {"label": dimension_label(dimension, row["key"]), "section": "" if index else section, **row}
                )
        return items

    @property
    def end_inclusive(self):
        return (self.span.end - timedelta(microseconds=1)).astimezone(self.tz).date() if self.span else None


def build_dashboard(*, user, params: QueryDict, tz: tzinfo) -> Dashboard:
    """Validate the filters in ``params`` and compute every chart the user may see."""
    visible = scope(WhatsAppBusinessAccount.objects.all(), user, "client")
    raw = params.dict()
    granularity = str(raw.get("granularity") or Granularity.DAILY).upper()
    if granularity not in Granularity.values:
        granularity = Granularity.DAILY
    hint = align_to_periods(range_hint(raw, tz), granularity=granularity, tz=tz)
    wabas = waba_choices(wabas_qs=visible, granularity=granularity, span=hint, user=user)
    defaults = {
        "granularity": Granularity.DAILY,
        "stack": STACK_CHOICES[0][0],
        "start": hint.start.astimezone(tz).date().isoformat(),
        "end": (hint.end - timedelta(microseconds=1)).astimezone(tz).date().isoformat(),
    }
    if params:
        # A bound form shows what it was given: fill what an export link or a hand-made URL may omit.
        params = params.copy()
        names = ["granularity", "stack"]
        if not params.get("start") and not params.get("end"):
            names += ["start", "end"]
        for name in names:
            if not params.get(name):
                params[name] = defaults[name]
    picked = _picked(wabas, raw_wabas=params.getlist("waba"), raw_client=raw.get("client"))
    form = ChartFilterForm(params or None, wabas=wabas, number_wabas=picked, tz=tz, initial=defaults)
    dashboard = Dashboard(form=form, wabas=wabas, tz=tz)
    if params and not form.is_valid():
        return dashboard
    data = form.cleaned_data if params else form_defaults(form)
    span: DateRange = align_to_periods(data["range"], granularity=data["granularity"], tz=tz)
    filters: PointFilters = data["filters"]
    dashboard.span, dashboard.granularity = span, data["granularity"]
    if span != hint or dashboard.granularity != granularity:  # the lenient guess differs from the clean range
        wabas = dashboard.wabas = waba_choices(
            wabas_qs=visible, granularity=dashboard.granularity, span=span, user=user
        )
    chosen = set(data.get("waba") or [])
    client = data.get("client")
    selected = [
        w for w in wabas if (not chosen or w.pk in chosen) and (client is None or w.client_pk == client)
    ]
    dashboard.selected = selected
    dashboard.sync_wabas = [w for w in selected if w.can_sync]
    sources = {w.pk: w.source for w in selected}
    numbers = {digits: label for w in selected for digits, label in w.numbers.items()}

    breakdown = selectors.analytics_breakdown(sources=sources, start=span.start, end=span.end, filters=filters)
    dashboard.breakdown = breakdown
    if breakdown.total:
        series = selectors.analytics_series(
            sources=sources,
            start=span.start,
            end=span.end,
            granularity=dashboard.granularity,
            group_by=data["stack"],
            filters=filters,
            tz=tz,
            with_previous=False,
        )
        dashboard.charts["over_time"] = over_time_chart(series, stack=data["stack"], tz=tz)
    else:
        dashboard.charts["over_time"] = Chart(key="over_time", title=_("Conversations over time"), label_header=_("Period"))
        dashboard.empty_reason, dashboard.recent_syncs = _why_empty(selected, span, filters, tz)
    dashboard.charts["by_country"] = ranking_chart(
        key="by_country",
        title=_("Conversations by country"),
        label_header=_("Country"),
        rows=breakdown.by["country"],
    )
    dashboard.charts["by_number"] = ranking_chart(
        key="by_number",
        title=_("Conversations by business number"),
        label_header=_("Phone number"),
        rows=breakdown.by["phone_number"],
        labels=numbers,
    )

    selected_qs = WhatsAppBusinessAccount.objects.filter(pk__in=[w.pk for w in selected])
    common = {"wabas_qs": selected_qs, "start": span.start, "end": span.end, "phone_numbers": filters.phone_numbers}
    groupings = ("phone_number", "campaign") if funnels.campaigns_available() else ("phone_number",)
    per_grouping = funnels.message_funnels(by=groupings, **common)
    dashboard.charts["funnel"] = funnel_chart(per_grouping["phone_number"])
    dashboard.charts["templates"] = funnel_table(
        "templates",
        _("Templates: our funnel beside the provider's 7-day metrics"),
        _("Template"),
        funnels.template_funnel(**common),
        provider=True,
    )
    if "campaign" in per_grouping:
        dashboard.charts["campaigns"] = funnel_table(
            "campaigns", _("Campaigns: delivery funnel"), _("Campaign"), per_grouping["campaign"], provider=False
        )
    dashboard.charts["failures"] = failures_chart(funnels.failure_reasons(**common))
    return dashboard


def _picked(wabas: list[WabaChoice], *, raw_wabas: list[str], raw_client: str | None) -> list[WabaChoice]:
    """The WABAs the query string picks (before validation: only used to narrow the number choices)."""
    pks = {int(value) for value in raw_wabas if str(value).isdigit()}
    client = int(raw_client) if raw_client and str(raw_client).isdigit() else None
    return [w for w in wabas if (not pks or w.pk in pks) and (client is None or w.client_pk == client)]


def form_defaults(form: ChartFilterForm) -> dict[str, Any]:
    """The cleaned data of a page opened without filters: the last 30 days, daily, all WABAs."""
    return {
        "range": date_range(start=None, end=None, tz=form.tz),
        "filters": PointFilters(),
        "granularity": Granularity.DAILY,
        "stack": STACK_CHOICES[0][0],
        "waba": [],
        "client": None,
    }


def _why_empty(
    selected: list[WabaChoice], span: DateRange, filters: PointFilters, tz: tzinfo
) -> tuple[str, list[AnalyticsSync]]:
    """A sentence saying why the range has no data, and the recent syncs behind it (one query at most)."""
    if not selected:
        return _("No WhatsApp Business account matches these filters, or none is visible to you."), []
    syncs = list(
        AnalyticsSync.objects.filter(waba__in=[w.pk for w in selected])
        .select_related("waba", "actor")
        .order_by("-started_at", "-id")[:5]
    )
    for sync in syncs:
        sync.words = sync_words(sync)  # in the reader's language, whoever ran it
    period = {
        "start": formats.date_format(span.start.astimezone(tz).date(), "SHORT_DATE_FORMAT"),
        "end": formats.date_format((span.end - timedelta(microseconds=1)).astimezone(tz).date(), "SHORT_DATE_FORMAT"),
    }
    if filters != PointFilters():
        return (
            _("No conversation matches these filters from %(start)s to %(end)s: remove some, or sync this range.")
            % period,
            syncs,
        )
    if not syncs:
        return (
            _("Analytics were never synced for these WABAs: sync them from the provider to see %(start)s – %(end)s.")
            % period,
            syncs,
        )
    last = syncs[0]
    if last.state == AnalyticsSync.State.ERROR:
        return _("The last sync failed: %(message)s") % {"message": last.words}, syncs
    if last.state == AnalyticsSync.State.EMPTY:
        return _("The provider had no data at the last sync: %(message)s") % {"message": last.words}, syncs
    return (
        _("Nothing synced covers %(start)s – %(end)s at this granularity: sync this range from the provider.") % period,
        syncs,
    )


def csv_for(dashboard: Dashboard, key: str) -> tuple[str, str] | None:
    """(filename, CSV text) of one chart, or None when the page has no such chart."""
    chart = dashboard.charts.get(key)
    if chart is None:
        return None
    span = dashboard.span
    suffix = f"{span.start.astimezone(dashboard.tz):%Y%m%d}-{dashboard.end_inclusive:%Y%m%d}" if span else "range"
    return f"analytics-{key}-{suffix}.csv", chart.to_csv()
