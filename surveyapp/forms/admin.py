from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DecimalField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class TargetForm(FlaskForm):
    target_pct = DecimalField(
        _l("Target (%)"), places=2, validators=[DataRequired(), NumberRange(min=0, max=100)]
    )
    target_rank = StringField(_l("Target rank"), validators=[Optional(), Length(max=20)])


class TargetImportForm(FlaskForm):
    file = FileField(
        _l("Targets file (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a CSV or XLSX file."))],
    )
