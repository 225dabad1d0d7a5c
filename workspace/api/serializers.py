"""Input and output of the conversations, notes and canned-responses API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging.conversations import window_open
from messaging.models import Contact, Conversation, ConversationStatus
from workspace.models import CannedResponse, Note, Team


class ConversationContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "wa_id", "profile_name", "opted_out"]
        read_only_fields = fields


class ConversationSerializer(serializers.ModelSerializer):
    contact = ConversationContactSerializer(read_only=True)
    labels = serializers.SerializerMethodField()
    window_open = serializers.SerializerMethodField()
    team = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = ["id", "client", "phone_number", "contact", "status", "assignee", "team", "snoozed_until", "labels",
                  "unread_count", "last_message_at", "last_inbound_at", "last_message_preview", "window_open",
                  "updated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_labels(self, conversation: Conversation) -> list[str]:
        return sorted(label.name for label in conversation.labels.all())

    def get_window_open(self, conversation: Conversation) -> bool:
        return window_open(conversation.last_inbound_at)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_team(self, conversation: Conversation) -> int | None:
        try:
            return conversation.team_link.team_id
        except Conversation.team_link.RelatedObjectDoesNotExist:
            return None


class ConversationUpdateSerializer(serializers.Serializer):
    """``PATCH``: any of the workflow fields; each change is recorded in the conversation's history."""

    status = serializers.ChoiceField(choices=ConversationStatus.choices, required=False)
    assignee = serializers.IntegerField(required=False, allow_null=True,
                                        help_text=_("A user id (an agent or admin of the client), or null."))
    team = serializers.IntegerField(required=False, allow_null=True,
                                    help_text=_("A team id (one of the client's teams), or null."))
    labels = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=20,
                                   help_text=_("Label names; new names are created for the client."))
    snoozed_until = serializers.DateTimeField(required=False, allow_null=True,
                                              help_text=_("Required with status snoozed, in the future."))


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = ["id", "author", "created_at"]

    def get_author(self, note: Note) -> str:
        if note.author is None:
            return ""
        return note.author.get_full_name() or note.author.get_username()


class NoteCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class CannedResponseSerializer(serializers.ModelSerializer):
    client = serializers.IntegerField(source="client_id", required=False,
                                      help_text=_("Needed when you belong to several clients."))

    class Meta:
        model = CannedResponse
        fields = ["id", "client", "shortcut", "text", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"shortcut": {"validators": []}}


class TeamSerializer(serializers.ModelSerializer):
    client = serializers.IntegerField(source="client_id", required=False,
                                      help_text=_("Needed when you belong to several clients."))
    members = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=200,
                                    help_text=_("User ids: the client's agents and admins."))
    phone_numbers = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=200,
                                          help_text=_("Ids of the client's business numbers the team serves."))

    class Meta:
        model = Team
        fields = ["id", "client", "name", "members", "phone_numbers", "round_robin", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"name": {"validators": []}}

    def to_representation(self, team: Team) -> dict:
        return {
            "id": team.pk, "client": team.client_id, "name": team.name,
            "members": sorted(user.pk for user in team.members.all()),
            "phone_numbers": sorted(number.pk for number in team.phone_numbers.all()),
            "round_robin": team.round_robin, "created_at": serializers.DateTimeField().to_representation(
                team.created_at),
        }
