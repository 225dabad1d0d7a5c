"""Thin API views over the workspace's services: conversations' workflow, private notes, canned responses."""

from __future__ import annotations

import django_filters
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Client, PhoneNumber
from accounts.tenancy import scope
from messaging.models import Conversation, ConversationStatus, Label
from waportal.errors import ApplicationError
from workspace import selectors, services, teams
from workspace.api.serializers import (
    CannedResponseSerializer,
    ConversationSerializer,
    ConversationUpdateSerializer,
    NoteCreateSerializer,
    NoteSerializer,
    TeamSerializer,
)


class ConversationFilter(django_filters.FilterSet):
    """``view``: mine, teams (my teams'), unassigned or all; ``status``; ``label`` (a name); ``number`` (a business number id)."""

    view = django_filters.ChoiceFilter(choices=[(key, key) for key in selectors.VIEWS], method="filter_view")
    status = django_filters.ChoiceFilter(choices=ConversationStatus.choices)
    label = django_filters.CharFilter(field_name="labels__name")
    number = django_filters.ModelChoiceFilter(field_name="phone_number", queryset=PhoneNumber.objects.all(),
                                              help_text=gettext_lazy("A business number's id."))
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gt")

    class Meta:
        model = Conversation
        fields = ["view", "status", "label", "number", "updated_after"]

    def filter_view(self, queryset, name, value):
        if value == "mine":
            return queryset.filter(assignee=self.request.user)
        if value == "teams":
            return queryset.filter(team_link__team__members=self.request.user)
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


class ConversationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Conversations with their workflow: status, assignee, snooze, labels; private notes."""

    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    search_fields = ["contact__profile_name", "contact__wa_id", "last_message_preview"]
    ordering_fields = ["last_message_at", "updated_at"]
    ordering = ["-last_message_at", "-id"]

    def get_queryset(self):
        return selectors.conversations_visible(self.request.user).select_related(
            "contact", "team_link").prefetch_related(
            Prefetch("labels", queryset=Label.objects.order_by("name")))

    @extend_schema(request=ConversationUpdateSerializer, responses=ConversationSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Change any of status, assignee, team, labels, snoozed_until (all or nothing)."""
        conversation = self.get_object()
        serializer = ConversationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            if "assignee" in data:
                assignee = services.assignee_for(client_id=conversation.client_id, user_id=data["assignee"])
                services.conversation_assign(actor=request.user, conversation=conversation, assignee=assignee)
            if "team" in data:
                team = teams.team_for(client_id=conversation.client_id, team_id=data["team"])
                teams.conversation_team_set(actor=request.user, conversation=conversation, team=team)
            if "status" in data or "snoozed_until" in data:
                services.conversation_status_set(
                    actor=request.user, conversation=conversation,
                    status=data.get("status", conversation.status), snoozed_until=data.get("snoozed_until"))
            if "labels" in data:
                services.conversation_labels_set(actor=request.user, conversation=conversation,
                                                 labels=data["labels"])
        return Response(ConversationSerializer(self.get_queryset().get(pk=conversation.pk)).data)

    @extend_schema(methods=["GET"], responses=NoteSerializer(many=True))
    @extend_schema(methods=["POST"], request=NoteCreateSerializer, responses={201: NoteSerializer})
    @action(detail=True, methods=["get", "post"])
    def notes(self, request, pk=None):
        """Private notes: seen by the client's staff only, never sent to the customer."""
        conversation = self.get_object()
        if request.method == "POST":
            serializer = NoteCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            note = services.conversation_note_add(actor=request.user, conversation=conversation,
                                                  text=serializer.validated_data["text"])
            return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(selectors.notes_of(conversation))
        return self.get_paginated_response(NoteSerializer(page, many=True).data)


def _client_of(request, data) -> int:
    """The client a new object belongs to: named, or the only one the user sees."""
    clients = scope(Client.objects.all(), request.user, "pk")
    wanted = data.get("client_id")
    if wanted is None:
        ids = list(clients.values_list("pk", flat=True)[:2])
        if len(ids) != 1:
            raise ApplicationError(_("Say which client this belongs to."), field="client")
        return ids[0]
    if not clients.filter(pk=wanted).exists():
        raise ApplicationError(_("Unknown client."), field="client")
    return wanted


@extend_schema(parameters=[OpenApiParameter("client", int, description="Only this client's teams.")])
class TeamViewSet(viewsets.ModelViewSet):
    """The client's teams: read by every role, managed by client admins."""

    serializer_class = TeamSerializer
    search_fields = ["name"]
    ordering = ["name", "id"]
    filterset_fields = ["client"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.teams_visible(self.request.user).prefetch_related("members", "phone_numbers")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = teams.team_create(
            actor=self.request.user, client_id=_client_of(self.request, data), name=data.get("name", ""),
            members=data.get("members", []), phone_numbers=data.get("phone_numbers", []),
            round_robin=data.get("round_robin", False))

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = teams.team_update(
            actor=self.request.user, team=serializer.instance, name=data.get("name"), members=data.get("members"),
            phone_numbers=data.get("phone_numbers"), round_robin=data.get("round_robin"))

    def perform_destroy(self, instance):
        teams.team_delete(actor=self.request.user, team=instance)


@extend_schema(parameters=[OpenApiParameter("client", int, description="Only this client's saved replies.")])
class CannedResponseViewSet(viewsets.ModelViewSet):
    """Saved replies an agent inserts with ``/shortcut``: read by every role, managed by client admins."""

    serializer_class = CannedResponseSerializer
    search_fields = ["shortcut", "text"]
    ordering = ["shortcut"]
    filterset_fields = ["client"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.canned_responses_visible(self.request.user)

    def _client_id(self, data) -> int:
        clients = scope(Client.objects.all(), self.request.user, "pk")
        wanted = data.get("client_id")
        if wanted is None:
            ids = list(clients.values_list("pk", flat=True)[:2])
            if len(ids) != 1:
                raise ApplicationError(_("Say which client this reply belongs to."), field="client")
            return ids[0]
        if not clients.filter(pk=wanted).exists():
            raise ApplicationError(_("Unknown client."), field="client")
        return wanted

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.canned_response_create(
            actor=self.request.user, client_id=self._client_id(data), shortcut=data["shortcut"], text=data["text"])

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.canned_response_update(
            actor=self.request.user, canned=serializer.instance, shortcut=data.get("shortcut"), text=data.get("text"))

    def perform_destroy(self, instance):
        services.canned_response_delete(actor=self.request.user, canned=instance)
