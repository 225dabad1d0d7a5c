"""The workspace's pages at the site root (``/`` is the inbox)."""

from django.urls import path

from workspace.views import contacts, frame, inbox, teams, thread

app_name = "workspace"

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("inbox/changes/", inbox.inbox_changes, name="inbox-changes"),
    path("login/", frame.LoginView.as_view(), name="login"),
    path("logout/", frame.LogoutView.as_view(), name="logout"),
    path("settings/", frame.settings_view, name="settings"),
    path("contacts/", contacts.contact_list, name="contacts"),
    path("contacts/<int:pk>/", contacts.contact_detail, name="contact"),
    path("contacts/<int:pk>/tag/", contacts.contact_tag, name="contact-tag"),
    path("contacts/<int:pk>/consent/", contacts.contact_consent, name="contact-consent"),
    path("c/<int:pk>/", thread.thread, name="thread"),
    path("c/<int:pk>/changes/", thread.thread_changes, name="thread-changes"),
    path("c/<int:pk>/reply/", thread.reply, name="reply"),
    path("c/<int:pk>/template/", thread.template_send, name="template-send"),
    path("c/<int:pk>/template/form/", thread.template_form, name="template-form"),
    path("c/<int:pk>/canned/", thread.canned_suggest, name="canned-suggest"),
    path("c/<int:pk>/assign/", thread.assign, name="assign"),
    path("c/<int:pk>/team/", teams.team_assign, name="team"),
    path("c/<int:pk>/status/", thread.status, name="status"),
    path("c/<int:pk>/labels/", thread.labels, name="labels"),
    path("c/<int:pk>/notes/", thread.note_add, name="note-add"),
]
