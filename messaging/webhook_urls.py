"""Provider callbacks: /webhooks/<provider>/<secret>/ (filled by the webhooks work)."""

urlpatterns: list = []
