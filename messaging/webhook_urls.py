"""Provider callbacks: ``/webhooks/<provider's webhook slug>/<secret>/`` — ``aldeamo`` and ``contacto-virtual``
today (the contract); each registered provider declares its slug (``providers.registry``)."""

from django.urls import path

from messaging.webhooks.receive import webhook_receive

app_name = "webhooks"

urlpatterns = [
    path("<slug:provider>/<str:secret>/", webhook_receive, name="receive"),
]
