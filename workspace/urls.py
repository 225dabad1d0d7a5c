"""The workspace's pages at the site root (``/`` is the inbox)."""

from django.urls import path

from workspace.views import (
    analytics,
    campaigns,
    contacts,
    frame,
    inbox,
    replybox,
    teams,
    templates,
    thread,
    thread_contact,
)

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
    # campaigns (issue 22)
    path("campaigns/", campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", campaigns.campaign_new, name="campaign-new"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/mapping/", campaigns.campaign_mapping, name="campaign-mapping"),
    path("campaigns/<int:pk>/report/", campaigns.campaign_report, name="campaign-report"),
    path("campaigns/<int:pk>/progress/", campaigns.campaign_progress, name="campaign-progress"),
    path("campaigns/<int:pk>/export/", campaigns.campaign_export, name="campaign-export"),
    path("campaigns/<int:pk>/do/<str:action>/", campaigns.campaign_action, name="campaign-action"),
    # Templates and analytics (issue 22)
    path("templates/", templates.template_list, name="templates"),
    path("templates/new/", templates.template_new, name="template-new"),
    path("templates/new/check/", templates.template_check, name="template-check"),
    path("templates/sync/", templates.templates_sync, name="templates-sync"),
    path("templates/<int:pk>/", templates.template_detail, name="template"),
    path("templates/<int:pk>/status/", templates.template_status, name="template-status"),
    path("templates/<int:pk>/delete/", templates.template_delete, name="template-delete"),
    path("analytics/", analytics.analytics_page, name="analytics"),
    path("analytics/sync/", analytics.analytics_sync, name="analytics-sync"),
    path("c/<int:pk>/", thread.thread, name="thread"),
    path("c/<int:pk>/changes/", thread.thread_changes, name="thread-changes"),
    path("c/<int:pk>/reply/", thread.reply, name="reply"),
    path("c/<int:pk>/template/", thread.template_send, name="template-send"),
    path("c/<int:pk>/template/form/", thread.template_form, name="template-form"),
    path("c/<int:pk>/canned/", thread.canned_suggest, name="canned-suggest"),
    path("c/<int:pk>/quote/", replybox.quote, name="quote"),
    path("emoji/", replybox.emoji_picker, name="emoji"),
    path("c/<int:pk>/assign/", thread.assign, name="assign"),
    path("c/<int:pk>/team/", teams.team_assign, name="team"),
    path("c/<int:pk>/status/", thread.status, name="status"),
    path("c/<int:pk>/labels/", thread.labels, name="labels"),
    path("c/<int:pk>/notes/", thread.note_add, name="note-add"),
    path("c/<int:pk>/contact/tag/", thread_contact.contact_tag, name="thread-contact-tag"),
]
