"""A positional template send (Contacto Virtual's): its variables and media link, from the components of the send
shape. What the provider accepts (forbidden characters, media file types) comes from its capabilities."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from messaging.validation.common import (
    TEMPLATE_BODY_PARAM_MAX,
    as_list,
    as_object,
    as_text,
    count_mismatch,
    https_link,
    link_extension,
    plural_parameters,
    refuse,
)
from templates_mgr.spec import template_spec


def positional_parameters(*, template: Any, components: Any) -> tuple[tuple[str, ...], str]:
    """The variables and media link of a positional send, from the components of the send shape.

    Body parameters (text) become the template variables, in order; the
    header's media parameter link becomes ``media``. Values containing a
    character the provider cannot carry are refused (Contacto Virtual
    separates variables with brackets and has no escape); the variable count
    must match the template text's placeholders when the text is known.
    """
    capabilities = template.capabilities
    provider = template.client.provider_account.get_provider_display()
    extensions = capabilities.template_media_extensions
    if components is None:
        components = []
    components = as_list(components, "template.components")
    variables: list[str] = []
    media = ""
    for index, item in enumerate(components):
        path = f"template.components[{index}]"
        component = as_object(item, path, _("{\"type\": \"header|body\", \"parameters\": […]}"))
        kind = str(component.get("type") or "").lower()
        parameters = component.get("parameters")
        parameters = as_list([] if parameters is None else parameters, f"{path}.parameters")
        if kind == "body":
            spec = template_spec(template)
            if template.text and len(parameters) != spec.body_variables:
                raise count_mismatch(template.name, _("text"), spec.body_variables, len(parameters),
                                      f"{path}.parameters")
            for position, parameter in enumerate(parameters):
                param_path = f"{path}.parameters[{position}]"
                param = as_object(parameter, param_path, _("a text parameter"))
                if param.get("type") != "text":
                    raise refuse(
                        _("%(field)s must be text: %(provider)s template variables are text.")
                        % {"field": f"{param_path}.type", "provider": provider},
                        f"{param_path}.type",
                    )
                value = as_text(param.get("text"), f"{param_path}.text", limit=TEMPLATE_BODY_PARAM_MAX)
                if any(char in value for char in capabilities.variable_forbidden):
                    raise refuse(
                        _("%(field)s contains one of %(chars)s, which %(provider)s uses to separate variables; "
                          "remove them (variable %(position)d).")
                        % {"field": f"{param_path}.text", "position": position + 1, "provider": provider,
                           "chars": " ".join(capabilities.variable_forbidden)},
                        f"{param_path}.text",
                    )
                variables.append(value)
        elif kind == "header" and extensions:
            if len(parameters) != 1:
                raise refuse(
                    _("%(field)s: the header takes exactly 1 media parameter (image, video or document with a "
                      "link); %(given)s.") % {"field": f"{path}.parameters", "given": plural_parameters(
                        len(parameters))},
                    f"{path}.parameters",
                )
            param_path = f"{path}.parameters[0]"
            param = as_object(parameters[0], param_path, _("a media parameter"))
            media_type = param.get("type")
            if media_type not in ("image", "video", "document", "audio"):
                raise refuse(
                    _("%(field)s must be image, video, document or audio: %(provider)s sends one media file by "
                      "link.") % {"field": f"{param_path}.type", "provider": provider},
                    f"{param_path}.type",
                )
            obj = as_object(param.get(media_type), f"{param_path}.{media_type}", _("{\"link\": \"https://…\"}"))
            media = https_link(obj.get("link"), f"{param_path}.{media_type}.link")
            extension = link_extension(media)
            if extension not in extensions:
                raise refuse(
                    _("%(field)s must link to a file %(provider)s can send (%(types)s); this link ends in "
                      "'%(ext)s'.") % {"field": f"{param_path}.{media_type}.link", "types": ", ".join(
                        extensions), "ext": extension or _("no extension"), "provider": provider},
                    f"{param_path}.{media_type}.link",
                )
        else:
            raise refuse(
                _("%(field)s must be body or header: %(provider)s templates take variables and one media file.")
                % {"field": f"{path}.type", "provider": provider},
                f"{path}.type",
            )
    spec = template_spec(template)
    if template.text and spec.body_variables and not variables:
        raise refuse(
            _("The template '%(name)s' text has %(count)d variables; add a body component with %(count)d "
              "parameters.") % {"name": template.name, "count": spec.body_variables},
            "template.components",
        )
    return tuple(variables), media
