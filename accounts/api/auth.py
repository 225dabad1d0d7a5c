"""POST /api/v1/auth/token/: trade a username and password for an API token.

Goes through django-axes like the admin login, so guessing passwords here
locks the account out just the same.
"""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttling import LoginAddressThrottle, LoginUsernameThrottle


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    # Per address and per username, on top of axes' lockout after repeated failures.
    throttle_classes = [LoginAddressThrottle, LoginUsernameThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(request._request, "axes_locked_out", False):
            return Response(
                {"detail": _("Too many failed attempts: this account is locked for a while.")}, status=429
            )
        if user is None or not user.is_active:
            return Response({"non_field_errors": [_("Unable to log in with the given username and password.")]},
                            status=400)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
