"""The portal's URLs plus the two baselines every figure is compared with.

``BENCH_LIST_PER_PAGE`` (set by ``bench/lists.py`` when it starts gunicorn)
sets the page size of the admin lists it measures, which take none from the
URL; the API lists take ``?page_size=``.
"""

import os

from django.urls import path

from bench import baseline
from waportal.urls import urlpatterns as portal

urlpatterns = [
    path("bench/noop/", baseline.noop),
    path("bench/insert/", baseline.insert),
    *portal,
]


def set_admin_page_size(size: int) -> None:
    """Rows per page of the messages, conversations (inbox) and templates admin lists."""
    from django.contrib import admin

    from messaging.admin import inbox_admin
    from messaging.models import Message
    from templates_mgr.models import Template

    for model in (Message, Template):
        admin.site._registry[model].list_per_page = size
    inbox_admin.INBOX_PAGE_SIZE = size


if os.environ.get("BENCH_LIST_PER_PAGE"):
    set_admin_page_size(int(os.environ["BENCH_LIST_PER_PAGE"]))
