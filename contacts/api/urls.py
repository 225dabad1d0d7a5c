"""Contacts API routes: /api/v1/contacts/ (with tag, untag, import) and /api/v1/segments/."""

from rest_framework.routers import SimpleRouter

from contacts.api import views

router = SimpleRouter()
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("contact-imports", views.ContactImportViewSet, basename="contact-import")
router.register("segments", views.SegmentViewSet, basename="segment")
urlpatterns = router.urls
