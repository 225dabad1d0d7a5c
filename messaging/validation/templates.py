"""A template send's components against the synced template's spec (:mod:`templates_mgr.spec`)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from django.utils.translation import gettext as _

from messaging.validation.common import (
    FILENAME_MAX,
    TEMPLATE_BODY_PARAM_MAX,
    TEMPLATE_BUTTON_PARAM_MAX,
    TEMPLATE_HEADER_PARAM_MAX,
    as_list,
    as_object,
    as_text,
    count_mismatch,
    https_link,
    link_extension,
    plural_parameters,
    refuse,
)
from messaging.validation.content import media_provider
from templates_mgr.spec import TemplateSpec, template_spec


def _text_parameter(parameter: dict[str, Any], path: str, limit: int) -> None:
    as_text(parameter.get("text"), f"{path}.text", limit=limit)


def _body_parameter(parameter: Any, path: str) -> None:
    param = as_object(parameter, path, _("a text, currency or date_time parameter"))
    kind = param.get("type")
    if kind == "text":
        _text_parameter(param, path, TEMPLATE_BODY_PARAM_MAX)
    elif kind == "currency":
        currency = as_object(param.get("currency"), f"{path}.currency",
                           _("{\"fallback_value\", \"code\", \"amount_1000\"}"))
        as_text(currency.get("fallback_value"), f"{path}.currency.fallback_value", limit=200)
        code = as_text(currency.get("code"), f"{path}.currency.code", limit=3)
        if len(code) != 3 or not code.isalpha():
            raise refuse(
                _("%(field)s must be a 3-letter ISO 4217 currency code, e.g. USD or COP.")
                % {"field": f"{path}.currency.code"},
                f"{path}.currency.code",
            )
        amount = currency.get("amount_1000")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise refuse(
                _("%(field)s must be a whole number: the amount times 1000 (100990 for 100.99).")
                % {"field": f"{path}.currency.amount_1000"},
                f"{path}.currency.amount_1000",
            )
    elif kind == "date_time":
        moment = as_object(param.get("date_time"), f"{path}.date_time", _("{\"fallback_value\": \"…\", …}"))
        as_text(moment.get("fallback_value"), f"{path}.date_time.fallback_value", limit=200)
    else:
        raise refuse(
            _("%(field)s must be text, currency or date_time.") % {"field": f"{path}.type"}, f"{path}.type"
        )


def _media_parameter(parameter: Any, path: str, media_type: str) -> None:
    param = as_object(parameter, path, _("a %(type)s parameter") % {"type": media_type})
    if param.get("type") != media_type:
        raise refuse(
            _("%(field)s must be %(type)s: the template's header is a %(type)s.")
            % {"field": f"{path}.type", "type": media_type},
            f"{path}.type",
        )
    media = as_object(param.get(media_type), f"{path}.{media_type}", _("{\"link\": \"https://…\"} or {\"id\": \"…\"}"))
    has_link, has_id = bool(media.get("link")), bool(media.get("id"))
    if has_link == has_id:
        raise refuse(
            _("%(field)s needs either a link (https://…) or a media id, not both.") % {"field": f"{path}.{media_type}"},
            f"{path}.{media_type}",
        )
    if has_link:
        https_link(media.get("link"), f"{path}.{media_type}.link")
    else:
        as_text(media.get("id"), f"{path}.{media_type}.id", limit=200)
    filename = as_text(media.get("filename"), f"{path}.{media_type}.filename", limit=FILENAME_MAX, required=False)
    media_provider(media.get("provider"), f"{path}.{media_type}.provider")
    if media_type == "document":
        # WhatsApp takes only PDF documents in templates. A link or file name
        # without an extension cannot be judged and is let through.
        for value, where in ((filename, "filename"), (media.get("link") or "", "link")):
            extension = PurePosixPath(value).suffix.lower().lstrip(".") if where == "filename" else (
                link_extension(value))
            if value and extension and extension != "pdf":
                raise refuse(
                    _("%(field)s: only PDF documents can be sent in templates (got a .%(ext)s file).")
                    % {"field": f"{path}.document.{where}", "ext": extension},
                    f"{path}.document.{where}",
                )


def check_template_components(*, template: Any, components: Any) -> None:
    """Check the send components against the synced template's: counts, header format, buttons.

    ``components`` is Aldeamo's send format, ``[{type: header|body|button,
    sub_type?, index?, parameters: [...]}]``; the template's are getTemplates'.
    A refusal names the component (``template.components[1].parameters``)
    and says what the template expects.
    """
    spec = template_spec(template)
    name = spec.name
    if components is None:
        components = []
    components = as_list(components, "template.components")
    seen_header = seen_body = False
    seen_buttons: set[int] = set()
    for index, item in enumerate(components):
        path = f"template.components[{index}]"
        component = as_object(item, path, _("{\"type\": \"header|body|button\", \"parameters\": […]}"))
        kind = str(component.get("type") or "").lower()
        parameters = component.get("parameters")
        if parameters is None:
            parameters = []
        parameters = as_list(parameters, f"{path}.parameters")
        if kind == "header":
            if seen_header:
                raise refuse(_("%(field)s: only one header component may be given.") % {"field": path}, path)
            seen_header = True
            _check_header(spec, parameters, path)
        elif kind == "body":
            if seen_body:
                raise refuse(_("%(field)s: only one body component may be given.") % {"field": path}, path)
            seen_body = True
            if len(parameters) != spec.body_variables:
                raise count_mismatch(name, _("body"), spec.body_variables, len(parameters), f"{path}.parameters")
            for position, parameter in enumerate(parameters):
                _body_parameter(parameter, f"{path}.parameters[{position}]")
        elif kind == "button":
            button_index = _check_button(spec, component, parameters, path)
            if button_index in seen_buttons:
                raise refuse(
                    _("%(field)s: button %(index)d is given twice.") % {"field": path, "index": button_index},
                    f"{path}.index",
                )
            seen_buttons.add(button_index)
        else:
            raise refuse(
                _("%(field)s must be header, body or button.") % {"field": f"{path}.type"}, f"{path}.type"
            )
    if spec.body_variables and not seen_body:
        raise refuse(
            _("The template '%(name)s' body has %(count)d variables; add a body component with %(count)d parameters.")
            % {"name": name, "count": spec.body_variables},
            "template.components",
        )
    if spec.header_format in ("IMAGE", "VIDEO", "DOCUMENT", "LOCATION") and not seen_header:
        raise refuse(
            _("The template '%(name)s' has a %(format)s header; add a header component with its %(type)s.")
            % {"name": name, "format": spec.header_format, "type": spec.header_format.lower()},
            "template.components",
        )
    if spec.header_variables and not seen_header:
        raise refuse(
            _("The template '%(name)s' header has %(count)d variables; add a header component with %(count)d "
              "parameters.") % {"name": name, "count": spec.header_variables},
            "template.components",
        )
    for button in spec.buttons:
        if button.type == "URL" and button.dynamic and button.index not in seen_buttons:
            raise refuse(
                _("The template '%(name)s' button %(index)d has a dynamic URL; add a button component "
                  "(sub_type url, index %(index)d) with the URL suffix.") % {"name": name, "index": button.index},
                "template.components",
            )


def _check_header(spec: TemplateSpec, parameters: list[Any], path: str) -> None:
    if not spec.header_format:
        raise refuse(
            _("The template '%(name)s' has no header; remove the header component.") % {"name": spec.name},
            path,
        )
    if spec.header_format == "TEXT":
        if len(parameters) != spec.header_variables:
            raise count_mismatch(spec.name, _("header"), spec.header_variables, len(parameters),
                                  f"{path}.parameters")
        for position, parameter in enumerate(parameters):
            param_path = f"{path}.parameters[{position}]"
            param = as_object(parameter, param_path, _("a text parameter"))
            if param.get("type") != "text":
                raise refuse(
                    _("%(field)s must be text: the template's header is text.") % {"field": f"{param_path}.type"},
                    f"{param_path}.type",
                )
            _text_parameter(param, param_path, TEMPLATE_HEADER_PARAM_MAX)
        return
    media_type = spec.header_format.lower()
    if len(parameters) != 1:
        raise refuse(
            _("The template '%(name)s' has a %(format)s header, which takes exactly 1 parameter (the %(type)s); "
              "%(given)s.") % {"name": spec.name, "format": spec.header_format, "type": media_type,
                                "given": plural_parameters(len(parameters))},
            f"{path}.parameters",
        )
    if media_type == "location":
        param = as_object(parameters[0], f"{path}.parameters[0]", _("a location parameter"))
        if param.get("type") != "location":
            raise refuse(
                _("%(field)s must be location: the template's header is a location.")
                % {"field": f"{path}.parameters[0].type"},
                f"{path}.parameters[0].type",
            )
        return
    _media_parameter(parameters[0], f"{path}.parameters[0]", media_type)


def _check_button(spec: TemplateSpec, component: dict[str, Any], parameters: list[Any], path: str) -> int:
    sub_type = component.get("sub_type")
    if sub_type not in ("quick_reply", "url"):
        raise refuse(_("%(field)s must be quick_reply or url.") % {"field": f"{path}.sub_type"}, f"{path}.sub_type")
    raw_index = component.get("index")
    try:
        index = int(str(raw_index).strip())
    except ValueError:
        index = -1
    if isinstance(raw_index, bool) or index < 0:
        raise refuse(
            _("%(field)s must be the button's position, counting from \"0\".") % {"field": f"{path}.index"},
            f"{path}.index",
        )
    if not spec.buttons:
        raise refuse(
            _("The template '%(name)s' has no buttons; remove the button component.") % {"name": spec.name}, path
        )
    if index >= len(spec.buttons):
        raise refuse(
            _("The template '%(name)s' has %(count)d buttons; %(field)s refers to button %(index)d, which does not "
              "exist.") % {"name": spec.name, "count": len(spec.buttons), "field": f"{path}.index", "index": index},
            f"{path}.index",
        )
    button = spec.buttons[index]
    expected_type = "QUICK_REPLY" if sub_type == "quick_reply" else "URL"
    if button.type != expected_type:
        raise refuse(
            _("The template '%(name)s' button %(index)d is a %(actual)s button, not %(sub_type)s.")
            % {"name": spec.name, "index": index, "actual": button.type, "sub_type": sub_type},
            f"{path}.sub_type",
        )
    if sub_type == "url" and button.dynamic is False:
        raise refuse(
            _("The template '%(name)s' button %(index)d has a fixed URL; it takes no parameter, remove this "
              "component.") % {"name": spec.name, "index": index},
            path,
        )
    if len(parameters) != 1:
        raise refuse(
            _("%(field)s: a %(sub_type)s button takes exactly 1 parameter; %(given)s.")
            % {"field": f"{path}.parameters", "sub_type": sub_type, "given": plural_parameters(len(parameters))},
            f"{path}.parameters",
        )
    param_path = f"{path}.parameters[0]"
    param = as_object(parameters[0], param_path, _("a button parameter"))
    if sub_type == "quick_reply":
        if param.get("type") != "payload":
            raise refuse(
                _("%(field)s must be payload for a quick-reply button.") % {"field": f"{param_path}.type"},
                f"{param_path}.type",
            )
        as_text(param.get("payload"), f"{param_path}.payload", limit=TEMPLATE_BUTTON_PARAM_MAX)
    else:
        if param.get("type") != "text":
            raise refuse(
                _("%(field)s must be text (the URL suffix) for a URL button.") % {"field": f"{param_path}.type"},
                f"{param_path}.type",
            )
        as_text(param.get("text"), f"{param_path}.text", limit=TEMPLATE_BUTTON_PARAM_MAX)
    return index
