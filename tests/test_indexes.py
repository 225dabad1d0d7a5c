"""The tables written per message, event or point carry no index another one already provides.

Every index is one more write for each row a campaign send, a webhook or an analytics sync stores. A
foreign key whose column leads a composite index or unique constraint is served by that one, so it has
no index of its own (``db_index=False``; the migrations drop only the index).
"""

from __future__ import annotations

import pytest
from django.db import connection

from analytics.models import ConversationDataPoint
from campaigns.models import CampaignRecipient
from messaging.models import Contact, Conversation, Message, StatusEvent, WebhookEvent
from notifications.models import Delivery

HOT_TABLES = [Message, Conversation, Contact, StatusEvent, WebhookEvent, CampaignRecipient, ConversationDataPoint,
              Delivery]


@pytest.mark.django_db
@pytest.mark.parametrize("model", HOT_TABLES, ids=lambda model: model.__name__)
def test_no_index_is_the_prefix_of_another(model):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    partial = {item.name for item in [*model._meta.indexes, *model._meta.constraints]
               if getattr(item, "condition", None) is not None}  # serve only some rows: they replace nothing
    indexed = [tuple(c["columns"]) for name, c in constraints.items()
               if (c["index"] or c["unique"]) and c["columns"] and not c["primary_key"] and name not in partial]
    redundant = sorted(
        (columns, other) for columns in indexed for other in indexed
        if len(columns) == 1 and len(other) > 1 and other[0] == columns[0]
        and columns[0].endswith("_id")  # foreign keys; lone indexes on other columns have their own reasons
    )
    assert not redundant, f"single-column indexes already led by a composite: {redundant}"


@pytest.mark.django_db
@pytest.mark.parametrize("model", HOT_TABLES, ids=lambda model: model.__name__)
def test_no_prefix_pattern_index_nothing_asks_for(model):
    """PostgreSQL's ``…_like`` twins serve only ``startswith``; the hot tables' lookups are exact or trigram."""
    if connection.vendor != "postgresql":
        pytest.skip("varchar_pattern_ops indexes are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
                       [model._meta.db_table, "%pattern_ops%"])
        assert cursor.fetchall() == []
