"""The sandbox's URL layout, mounted at ``/sandbox/`` (portal, when ``SANDBOX_ENABLED``) or by ``run_sandbox``.

Base URLs to give the portal's provider accounts:

* Aldeamo: ``<host>/sandbox/aldeamo`` -- then the seed's own paths:
  ``v1/apikey/{service}/bsp/send``, ``v1/apikey/template/getTemplates`` (seed 000
  l.2353/2359; the singular ``getTemplate`` is the PDF's wrapped misreading and
  answers 404 as a real server would), ``…/createTemplate``, ``…/deleteTemplate``,
  ``v1/analytics/getAnalytics``, ``…/getWabaIdsByToken``, ``…/getPhoneNumbers``;
  plus ``getFiles/<file>`` serving the media of simulated inbound messages.
* Contacto Virtual: ``<host>/sandbox/contacto-virtual/`` -- ``send/``,
  ``balance/``, ``template/`` (the trailing slash is optional, so a POST never
  meets an APPEND_SLASH redirect).
"""

from django.urls import include, path, re_path

from . import media, views_aldeamo, views_cv

app_name = "sandbox"

aldeamo = [
    path("v1/apikey/template/getTemplates", views_aldeamo.get_templates, name="aldeamo-get-templates"),
    path("v1/apikey/template/createTemplate", views_aldeamo.create_template, name="aldeamo-create-template"),
    path("v1/apikey/template/deleteTemplate", views_aldeamo.delete_template, name="aldeamo-delete-template"),
    path("v1/apikey/<str:service>/bsp/send", views_aldeamo.send, name="aldeamo-send"),
    path("v1/analytics/getAnalytics", views_aldeamo.get_analytics, name="aldeamo-get-analytics"),
    path("v1/analytics/getWabaIdsByToken", views_aldeamo.get_waba_ids_by_token, name="aldeamo-get-waba-ids"),
    path("v1/analytics/getPhoneNumbers", views_aldeamo.get_phone_numbers, name="aldeamo-get-phone-numbers"),
    path("getFiles/<str:filename>", media.media_file, name="aldeamo-media"),
]

contacto_virtual = [
    re_path(r"^send/?$", views_cv.send, name="cv-send"),
    re_path(r"^balance/?$", views_cv.balance, name="cv-balance"),
    re_path(r"^template/?$", views_cv.templates, name="cv-template"),
]

urlpatterns = [
    path("aldeamo/", include(aldeamo)),
    path("contacto-virtual/", include(contacto_virtual)),
]
