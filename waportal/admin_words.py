"""An admin list filter that offers a provider field's values in the reader's words (``waportal.words``)."""

from __future__ import annotations

from django.contrib import admin

from waportal.words import word


def word_filter(field: str, mapping: str, title) -> type[admin.SimpleListFilter]:
    """A list filter on ``field`` whose choices are the values present, each shown through ``mapping``."""

    class WordFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            values = (model_admin.get_queryset(request).order_by().exclude(**{field: ""})
                      .values_list(field, flat=True).distinct()[:100])
            return sorted(((value, word(mapping, value)) for value in values), key=lambda pair: pair[1])

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    WordFilter.title = title
    WordFilter.__name__ = f"{field.title().replace('_', '')}WordFilter"
    return WordFilter
