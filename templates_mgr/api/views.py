import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from accounts.models import Role, WhatsAppBusinessAccount
from accounts.tenancy import require_role, scope
from templates_mgr import services
from templates_mgr.api.serializers import (
    TemplateCreateSerializer,
    TemplateDetailSerializer,
    TemplateSerializer,
    TemplateUpdateSerializer,
)
from templates_mgr.models import Template, TemplateChange


class TemplateFilter(django_filters.FilterSet):
    deleted = django_filters.BooleanFilter(field_name="deleted_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Template
        fields = {
            "waba": ["exact"],
            "client": ["exact"],
            "status": ["exact", "in"],
            "name": ["exact", "icontains"],
            "language": ["exact"],
            "category": ["exact"],
        }


class TemplateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Templates: list/filter, create at the provider, delete at the provider; PATCH what no listing gives."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    filterset_class = TemplateFilter
    search_fields = ["name"]
    ordering_fields = ["name", "language", "status", "updated_at"]

    def get_queryset(self):
        queryset = Template.objects.select_related("waba", "client__provider_account")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(Prefetch("changes", queryset=TemplateChange.objects.order_by("-at")))
        return scope(queryset, self.request.user, "client")

    def get_serializer_class(self):
        return TemplateDetailSerializer if self.action == "retrieve" else TemplateSerializer

    @extend_schema(request=TemplateCreateSerializer, responses={201: TemplateDetailSerializer})
    def create(self, request, *args, **kwargs):
        wabas = scope(WhatsAppBusinessAccount.objects.select_related("client__provider_account"), request.user,
                      "client", Role.VIEWER)
        serializer = TemplateCreateSerializer(data=request.data, wabas=wabas)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        require_role(request.user, data["waba"].client_id, Role.ADMIN)
        template = services.template_create(actor=request.user, **data)
        return Response(TemplateDetailSerializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TemplateUpdateSerializer, responses={200: TemplateDetailSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Set Contacto Virtual's ``id_template`` (``provider_template_id``): its listing has none."""
        template = self.get_object()
        serializer = TemplateUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.template_provider_id_set(actor=request.user, template=template,
                                                     **serializer.validated_data)
        return Response(TemplateDetailSerializer(template).data)

    def destroy(self, request, *args, **kwargs):
        template = self.get_object()
        require_role(request.user, template.client_id, Role.ADMIN)
        services.template_delete(actor=request.user, template=template)
        return Response(status=status.HTTP_204_NO_CONTENT)
