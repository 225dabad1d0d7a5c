"""Contacts API shapes: input serializers only check shapes; services check meaning."""

from __future__ import annotations

from rest_framework import serializers

from contacts.models import ConsentEvent, ContactImport, Segment
from messaging.models import Contact

ID_MAX = 2**63 - 1  # a database id (64-bit): a larger number is refused by the serializer, not by the database


class ConsentEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ConsentEvent
        fields = ["opted_out", "source", "detail", "actor", "created_at"]


class ContactSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="wa_id", read_only=True)
    name = serializers.CharField(source="profile_name", read_only=True)
    tags = serializers.SerializerMethodField()
    consent = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = ["id", "client", "number", "name", "language", "tags", "attributes", "opted_out", "consent",
                  "created_at", "updated_at"]

    def get_tags(self, contact: Contact) -> list[str]:
        return sorted(tag.name for tag in contact.tags.all())

    def get_consent(self, contact: Contact) -> dict | None:
        """The latest consent change (when and how), or None when it never changed."""
        events = list(contact.consent_events.all())
        return ConsentEventSerializer(events[0]).data if events else None


class ContactDetailSerializer(ContactSerializer):
    consent_history = ConsentEventSerializer(source="consent_events", many=True, read_only=True)

    class Meta(ContactSerializer.Meta):
        fields = [*ContactSerializer.Meta.fields, "consent_history"]


class ContactWriteSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    number = serializers.CharField(max_length=40, required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    language = serializers.CharField(max_length=16, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=100)
    attributes = serializers.DictField(required=False)
    opted_out = serializers.BooleanField(required=False)


class BulkTagSerializer(serializers.Serializer):
    contacts = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ID_MAX), min_length=1,
                                     max_length=10000)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), min_length=1, max_length=50)


class ImportSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    file = serializers.FileField()
    mapping = serializers.JSONField(help_text="{column: number | name | language | tags | opted_out | attribute key}")
    dry_run = serializers.BooleanField(default=False)
    default_country = serializers.CharField(max_length=2, default="CO")
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    background = serializers.BooleanField(
        default=False, help_text="Import in the background: 202 with the import to poll (GET /contact-imports/{id}/).")


class ContactImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactImport
        fields = ["id", "client", "original_name", "mapping", "status", "rows_done", "percent", "report", "error",
                  "created_at", "finished_at"]
        read_only_fields = fields


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "client", "name", "filters", "created_at", "updated_at"]
        read_only_fields = ["client", "created_at", "updated_at"]


class SegmentWriteSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    name = serializers.CharField(max_length=120, required=False)
    filters = serializers.JSONField(required=False)
