from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


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


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=80)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])


class PasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=200)]
    )


class DeskForm(FlaskForm):
    name = StringField(_l("Desk name"), validators=[DataRequired(), Length(max=200)])
    unit_id = SelectField(_l("Unit"), coerce=int, choices=[])


class VolumeForm(FlaskForm):
    period_start = DateField(_l("From"), validators=[DataRequired()])
    period_end = DateField(_l("To"), validators=[DataRequired()])
    # InputRequired, not DataRequired: 0 is a real volume (a desk closed for the period), and
    # DataRequired treats it as a missing value.
    transactions = IntegerField(
        _l("Transactions"), validators=[InputRequired(), NumberRange(min=0)]
    )


class MarginImportForm(FlaskForm):
    file = FileField(
        _l("Margins file (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a CSV or XLSX file."))],
    )
    source = StringField(
        _l("Source of the totals (used where the file has no source column)"),
        validators=[Optional(), Length(max=300)],
    )
