"""How a template is shown, the same in the admin and in the workspace: its badge tone and words, its bubble, and
the words for a provider's refusal when creating or deleting one."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_lazy

from providers.base import ProviderError
from templates_mgr.builder import components_from_plain_text, render_preview
from templates_mgr.models import Template, TemplateStatus
from waportal.words import choice_label, word

STATUS_TONES = {
    TemplateStatus.APPROVED: "green",
    TemplateStatus.PENDING: "yellow",
    TemplateStatus.IN_APPEAL: "yellow",
    TemplateStatus.PENDING_DELETION: "yellow",
    TemplateStatus.REJECTED: "red",
    TemplateStatus.PAUSED: "red",
    TemplateStatus.DISABLED: "red",
    TemplateStatus.FLAGGED: "red",
}

# WhatsApp's words for why a template was refused, as a person reads them. Categories and quality ratings are
# ``waportal.words``' (one mapping per provider enum).
REJECTION_REASONS = {
    "ABUSIVE_CONTENT": gettext_lazy("WhatsApp found the content abusive."),
    "INVALID_FORMAT": gettext_lazy("The template's format is not valid (variables, length or characters)."),
    "PROMOTIONAL": gettext_lazy("Promotional content in a category that does not allow it."),
    "TAG_CONTENT_MISMATCH": gettext_lazy("The content does not match the chosen category."),
    "INCORRECT_CATEGORY": gettext_lazy("The content does not match the chosen category."),
    "SCAM": gettext_lazy("WhatsApp suspects the template of being a scam."),
    "NONE": gettext_lazy("WhatsApp gave no reason."),
}
def category_words(category: str) -> str:
    """A category in words, today's and WhatsApp's older ones; anything else humanised."""
    return word("template_category", category)


def reason_words(reason: str) -> str:
    """A rejection reason in words; free text (a provider's own explanation) as it came."""
    return str(REJECTION_REASONS.get((reason or "").strip().upper(), reason or ""))


def quality_words(quality: str) -> str:
    return word("quality", quality)


def status_tone(template: Template) -> str:
    """The badge colour: green approved, yellow waiting, red refused or stopped, grey deleted or unknown."""
    if template.is_deleted:
        return "grey"
    return STATUS_TONES.get(template.status, "grey")


def status_words(template: Template) -> str:
    """The status in the user's language ("deleted" once gone at the provider)."""
    return gettext("deleted") if template.is_deleted else template.get_status_display()


def status_label(value: str) -> str:
    """A stored status value (history's old and new values) in words; unknown values humanised."""
    return choice_label(TemplateStatus, value)


def template_preview(template: Template) -> dict[str, Any]:
    """The bubble for a stored template; Contacto Virtual's have only their approved text."""
    components = template.components or (components_from_plain_text(template.text) if template.text else [])
    return render_preview(components)


def create_error_words(exc: ProviderError) -> str:
    """A provider's refusal of createTemplate, in words (a timeout may have created it)."""
    if exc.maybe_delivered:
        return gettext("The provider did not answer in time, so the template may have been created. Sync the "
                       "templates before submitting again. (%(words)s)") % {"words": exc.message}
    return gettext("The provider refused the template: %(words)s") % {"words": exc.message}


def delete_error_words(exc: ProviderError) -> str:
    """A provider's refusal of deleteTemplate, in words (a timeout may have deleted it)."""
    if exc.maybe_delivered:
        return gettext("The provider did not answer in time, so the template may have been deleted. "
                       "Sync the templates to see. (%(words)s)") % {"words": exc.message}
    return gettext("The provider did not delete the template: %(words)s") % {"words": exc.message}
