"""Thin API views for contacts and segments: check shapes, call services and selectors, shape the answer."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.models import Client, Role
from accounts.tenancy import client_ids_for, require_role, scope
from contacts import imports, segments, selectors, services
from contacts.api.serializers import (
    BulkTagSerializer,
    ContactDetailSerializer,
    ContactImportSerializer,
    ContactSerializer,
    ContactWriteSerializer,
    ImportSerializer,
    SegmentSerializer,
    SegmentWriteSerializer,
)
from contacts.models import ConsentEvent, ConsentSource, ContactImport, Segment
from messaging.models import Contact
from waportal.errors import ApplicationError

LIST_FILTERS = ("tags", "any_tags", "consent", "country", "search", "inbound_within_days", "no_inbound_for_days",
                "outbound_within_days", "received_campaign", "replied_to_campaign")


def client_for(request, given: int | None) -> int:
    """The client a new object belongs to: the one named (it must be the user's), or the user's only one."""
    visible = client_ids_for(request.user)
    if given is not None:
        if (visible is None and Client.objects.filter(pk=given).exists()) or (visible and given in visible):
            return given
        raise Http404
    if visible is not None and len(visible) == 1:
        return next(iter(visible))
    raise ApplicationError(_("Name the client (you belong to several)."), field="client")


def require_some_role(request, role: str) -> None:
    """Refuse (403) before reading the body when the user holds ``role`` in no client."""
    if client_ids_for(request.user, role) == set():
        raise PermissionDenied(_("You need the %(role)s role in this client to do that.") % {"role": Role(role).label})


def query_filters(params) -> dict:
    """The contact list's query parameters as a filter (``attr.<key>=value`` for attributes)."""
    filters = {key: params.get(key) for key in LIST_FILTERS if params.get(key) not in (None, "")}
    attributes = {key[5:]: value for key, value in params.items() if key.startswith("attr.") and value != ""}
    if attributes:
        filters["attributes"] = attributes
    return filters


class ContactViewSet(viewsets.GenericViewSet):
    """Contacts per client. Filters: ``tags``, ``any_tags`` (comma-separated), ``attr.<key>``, ``consent``
    (opted_in / opted_out), ``country``, ``search``, ``inbound_within_days``, ``no_inbound_for_days``,
    ``received_campaign`` / ``replied_to_campaign`` (a campaign id)."""

    serializer_class = ContactSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        queryset = Contact.objects.prefetch_related(
            "tags", Prefetch("consent_events", queryset=ConsentEvent.objects.select_related("actor")))
        return scope(queryset, self.request.user, "client").order_by("-updated_at", "-pk")

    @extend_schema(parameters=[OpenApiParameter(name, str) for name in LIST_FILTERS])
    def list(self, request):
        queryset = selectors.contacts_filter(self.get_queryset(), query_filters(request.query_params))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ContactDetailSerializer(self.get_object()).data)

    @extend_schema(request=ContactWriteSerializer, responses={201: ContactDetailSerializer})
    def create(self, request):
        require_some_role(request, Role.AGENT)
        data = self._valid(ContactWriteSerializer(data=request.data))
        if not data.get("number"):
            raise ApplicationError(_("The number is required."), field="number")
        contact = services.contact_create(
            actor=request.user, client_id=client_for(request, data.get("client")), number=data["number"],
            name=data.get("name", ""), language=data.get("language", ""), attributes=data.get("attributes"),
            tags=data.get("tags", []), opted_out=data.get("opted_out", False))
        return Response(ContactDetailSerializer(self._fresh(contact)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ContactWriteSerializer, responses={200: ContactDetailSerializer})
    def partial_update(self, request, pk=None):
        contact = self.get_object()
        data = self._valid(ContactWriteSerializer(data=request.data, partial=True))
        services.contact_update(actor=request.user, contact=contact, name=data.get("name"),
                                language=data.get("language"), attributes=data.get("attributes"),
                                tags=data.get("tags"), opted_out=data.get("opted_out"), source=ConsentSource.API)
        return Response(ContactDetailSerializer(self._fresh(contact)).data)

    def destroy(self, request, pk=None):
        services.contact_delete(actor=request.user, contact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=BulkTagSerializer, responses={200: inline_serializer(
        "BulkTagResult", {"contacts": serializers.IntegerField()})})
    @action(detail=False, methods=["post"], url_path="tag")
    def tag(self, request):
        return self._bulk_tag(request, remove=False)

    @extend_schema(request=BulkTagSerializer, responses={200: inline_serializer(
        "BulkUntagResult", {"contacts": serializers.IntegerField()})})
    @action(detail=False, methods=["post"], url_path="untag")
    def untag(self, request):
        return self._bulk_tag(request, remove=True)

    @extend_schema(request={"multipart/form-data": ImportSerializer}, responses={202: ContactImportSerializer,
                                                                                200: inline_serializer(
        "ContactImportReport", {"dry_run": serializers.BooleanField(), "rows": serializers.IntegerField(),
                                "created": serializers.IntegerField(), "updated": serializers.IntegerField(),
                                "refused": serializers.IntegerField(),
                                "refused_rows": serializers.ListField(child=serializers.DictField())})})
    @action(detail=False, methods=["post"], url_path="import")
    def import_csv(self, request):
        require_some_role(request, Role.AGENT)
        data = self._valid(ImportSerializer(data=request.data))
        client_id = client_for(request, data.get("client"))
        if data["background"]:
            job = imports.contact_import_start(
                actor=request.user, client_id=client_id, file=data["file"], original_name=data["file"].name,
                mapping=data["mapping"], dry_run=data["dry_run"], region=data["default_country"].upper(),
                tags=data.get("tags") or [])
            url = reverse("contact-import-detail", args=[job.pk], request=request)
            return Response(ContactImportSerializer(job).data, status=status.HTTP_202_ACCEPTED,
                            headers={"Location": url})
        report = imports.contacts_import(
            actor=request.user, client_id=client_id, file=data["file"].file, mapping=data["mapping"],
            dry_run=data["dry_run"], region=data["default_country"].upper(), tags=data.get("tags") or [])
        return Response(report)

    def _bulk_tag(self, request, *, remove: bool):
        require_some_role(request, Role.AGENT)
        data = self._valid(BulkTagSerializer(data=request.data))
        ids = list(self.get_queryset().filter(pk__in=data["contacts"]).values_list("client_id", "pk"))
        touched = 0
        for client_id in {c for c, _pk in ids}:
            touched += services.contacts_tag(actor=request.user, client_id=client_id,
                                             contact_ids=[pk for c, pk in ids if c == client_id],
                                             tags=data["tags"], remove=remove)
        return Response({"contacts": touched})

    def _valid(self, serializer) -> dict:
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _fresh(self, contact: Contact) -> Contact:
        return self.get_queryset().get(pk=contact.pk)


class ContactImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background imports (``POST /contacts/import/`` with ``background``): status, rows read, percent, report."""

    serializer_class = ContactImportSerializer

    def get_queryset(self):
        return scope(ContactImport.objects.all(), self.request.user, "client")


class SegmentViewSet(viewsets.GenericViewSet):
    """Saved contact filters with their live count (``GET …/{id}/count/``, ``POST …/count/`` for unsaved ones)."""

    serializer_class = SegmentSerializer

    def get_queryset(self):
        return scope(Segment.objects.all(), self.request.user, "client")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SegmentSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(SegmentSerializer(self.get_object()).data)

    @extend_schema(request=SegmentWriteSerializer, responses={201: SegmentSerializer})
    def create(self, request):
        require_some_role(request, Role.AGENT)
        data = self._valid(SegmentWriteSerializer(data=request.data))
        segment = segments.segment_create(actor=request.user, client_id=client_for(request, data.get("client")),
                                          name=data.get("name", ""), filters=data.get("filters") or {})
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SegmentWriteSerializer, responses={200: SegmentSerializer})
    def partial_update(self, request, pk=None):
        data = self._valid(SegmentWriteSerializer(data=request.data, partial=True))
        segment = segments.segment_update(actor=request.user, segment=self.get_object(), name=data.get("name"),
                                          filters=data.get("filters"))
        return Response(SegmentSerializer(segment).data)

    def destroy(self, request, pk=None):
        segments.segment_delete(actor=request.user, segment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: inline_serializer("SegmentCount", {"count": serializers.IntegerField()})})
    @action(detail=True, methods=["get"])
    def count(self, request, pk=None):
        return Response({"count": segments.segment_count(segment=self.get_object())})

    @extend_schema(request=SegmentWriteSerializer,
                   responses={200: inline_serializer("SegmentPreviewCount", {"count": serializers.IntegerField()})})
    @action(detail=False, methods=["post"], url_path="count")
    def preview_count(self, request):
        """The count of an unsaved filter (the live count while editing)."""
        data = self._valid(SegmentWriteSerializer(data=request.data))
        client_id = client_for(request, data.get("client"))
        require_role(request.user, client_id, Role.VIEWER)
        return Response({"count": segments.filters_count(client_id=client_id, filters=data.get("filters") or {})})

    def _valid(self, serializer) -> dict:
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)



