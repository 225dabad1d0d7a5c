"""Provider callbacks: ``/webhooks/aldeamo/<secret>/`` and ``/webhooks/contacto-virtual/<secret>/`` (the contract)."""

from django.urls import path

from messaging.webhooks.receive import webhook_receive

app_name = "webhooks"

urlpatterns = [
    path("aldeamo/<str:secret>/", webhook_receive, {"provider": "aldeamo"}, name="aldeamo"),
    path("contacto-virtual/<str:secret>/", webhook_receive, {"provider": "contacto-virtual"},
         name="contacto_virtual"),
]
