"""The base of every Flask-WTF form in the product: text fields are cleaned of control
characters (see :mod:`surveyapp.hygiene`) before any validator sees them."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField

from surveyapp.hygiene import clean_text


def _multiline(value: Any) -> Any:
    return clean_text(value, multiline=True) if isinstance(value, str) else value


def _single_line(value: Any) -> Any:
    return clean_text(value, multiline=False) if isinstance(value, str) else value


class Form(FlaskForm):
    """FlaskForm whose every text field carries the control-character filter.

    The filter is added when a field is bound, so a field declared on a subclass, or built
    at runtime (the citizen questionnaire), cannot be left out. Passwords are left as typed
    (the request layer has already removed what cannot be typed): a password is never
    stored as text, and changing it here would change a secret.
    """

    class Meta(FlaskForm.Meta):
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                clean = _multiline if issubclass(field_class, TextAreaField) else _single_line
                # Passed as an option, not written into the shared unbound field: the field
                # class is bound again for every form instance.
                filters = unbound_field.kwargs.get("filters") or ()
                options = {**options, "filters": (clean, *filters)}
            return super().bind_field(form, unbound_field, options)
