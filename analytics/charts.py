"""The charts of the analytics page, each a :class:`Chart`: labels and datasets for ``charts.js``, the same
rows for its table and its CSV. Built from what :mod:`analytics.selectors` and :mod:`analytics.funnels`
return; no queries here."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from analytics import selectors
from analytics.models import ConversationDirection, ConversationType, Granularity

# Rankings by country and by number show the largest values.
TOP = 15

STACK_CHOICES = [
    ("conversation_type", gettext_lazy("type")),
    ("conversation_direction", gettext_lazy("direction")),
]


@dataclass
class Chart:
    """What one chart (or table) shows: one label per row, one dataset per series."""

    key: str
    title: str
    label_header: str
    labels: list[str] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    kind: str = "bar"
    stacked: bool = False
    horizontal: bool = False
    empty_text: str = ""

    @property
    def is_empty(self) -> bool:
        return not any(any(value for value in dataset["data"]) for dataset in self.datasets)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "kind": self.kind,
            "stacked": self.stacked,
            "horizontal": self.horizontal,
            "labels": self.labels,
            "datasets": [{"key": d["key"], "label": d["label"], "data": d["data"]} for d in self.datasets],
        }

    def rows(self) -> list[list[Any]]:
        """The table form: label, then one value per dataset ("" where a table has no value)."""
        return [
            [label, *[("" if d["data"][i] is None else d["data"][i]) for d in self.datasets]]
            for i, label in enumerate(self.labels)
        ]

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([self.label_header, *[d["label"] for d in self.datasets]])
        writer.writerows(self.rows())
        return buffer.getvalue()


def _period_label(moment: datetime, granularity: str) -> str:
    if granularity == Granularity.HALF_HOUR:
        return moment.strftime("%Y-%m-%d %H:%M")
    if granularity == Granularity.DAILY:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m")


def dimension_label(dimension: str, value: str) -> str:
    choices = {"conversation_type": ConversationType, "conversation_direction": ConversationDirection}.get(dimension)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return value or _("(not given)")


def over_time_chart(series: selectors.Series, *, stack: str, tz: tzinfo) -> Chart:
    """Conversations per period, one dataset per value of ``stack``; periods without data are zeros."""
    axis = selectors.period_starts(start=series.start, end=series.end, granularity=series.granularity, tz=tz)
    index = {selectors.period_key(moment, tz): i for i, moment in enumerate(axis)}
    values: dict[str, list[int]] = {}
    for row in series.rows:
        position = index.get(selectors.period_key(row["start"], tz))
        if position is None:  # a provider period that starts before the axis (e.g. a month synced whole)
            continue
        data = values.setdefault(row[stack], [0] * len(axis))
        data[position] += row["conversations"]
    ordered = sorted(values.items(), key=lambda item: -sum(item[1]))
    return Chart(
        key="over_time",
        title=_("Conversations over time, by %(stack)s") % {"stack": dict(STACK_CHOICES)[stack]},
        label_header=_("Period"),
        labels=[_period_label(moment, series.granularity) for moment in axis],
        datasets=[{"key": key, "label": dimension_label(stack, key), "data": data} for key, data in ordered],
        stacked=True,
    )


def ranking_chart(
    *, key: str, title: str, label_header: str, rows: list[dict[str, Any]], labels: dict[str, str] | None = None
) -> Chart:
    """A ranking (by country, by number): this period beside the previous one, largest first."""
    shown = [row for row in rows if row["current"]][:TOP]
    labels = labels or {}
    return Chart(
        key=key,
        title=title,
        label_header=label_header,
        labels=[labels.get(row["key"], row["key"] or _("(not given)")) for row in shown],
        datasets=[
            {"key": "current", "label": _("This period"), "data": [row["current"] for row in shown]},
            {"key": "previous", "label": _("Previous period"), "data": [row["previous"] for row in shown]},
        ],
        horizontal=True,
    )


def funnel_chart(rows: list[dict[str, Any]]) -> Chart:
    """Our messages per business number through sent → delivered → read → replied (and failed)."""
    stages = [
        ("sent", pgettext("message count", "Sent")),
        ("delivered", pgettext("message count", "Delivered")),
        ("read", pgettext("message count", "Read")),
        ("replied", pgettext("message count", "Replied")),
        ("failed", pgettext("message count", "Failed")),
    ]
    return Chart(
        key="funnel",
        title=_("Delivery funnel of our messages, by number"),
        label_header=_("Phone number"),
        labels=[row["label"] for row in rows],
        datasets=[{"key": key, "label": label, "data": [row[key] for row in rows]} for key, label in stages],
    )


def funnel_table(key: str, title: str, header: str, rows: list[dict[str, Any]], *, provider: bool) -> Chart:
    columns = [
        ("total", _("Messages")),
        ("sent", pgettext("message count", "Sent")),
        ("delivered", pgettext("message count", "Delivered")),
        ("read", pgettext("message count", "Read")),
        ("replied", pgettext("message count", "Replied")),
        ("failed", pgettext("message count", "Failed")),
    ]
    if provider:
        columns += [
            ("provider_sent_7d", _("Provider: sent (7 days)")),
            ("provider_opened_7d", _("Provider: opened (7 days)")),
            ("provider_top_block_reason", _("Provider: top block reason")),
        ]
    return Chart(
        key=key,
        title=title,
        label_header=header,
        labels=[row["label"] for row in rows],
        datasets=[{"key": col, "label": label, "data": [row.get(col) for row in rows]} for col, label in columns],
        kind="table",
    )


def failures_chart(rows: list[dict[str, Any]]) -> Chart:
    return Chart(
        key="failures",
        title=_("Why our messages failed"),
        label_header=_("Reason"),
        labels=[f"{row['code']} · {row['title']}" if row["code"] else row["title"] for row in rows],
        datasets=[{"key": "count", "label": _("Messages"), "data": [row["count"] for row in rows]}],
        horizontal=True,
    )

