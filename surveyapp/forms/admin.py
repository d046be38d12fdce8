from __future__ import annotations

from flask_babel import lazy_gettext as _l
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

from surveyapp.forms.base import Form


class TargetForm(Form):
    target_pct = DecimalField(
        _l("Target (%)"), places=2, validators=[DataRequired(), NumberRange(min=0, max=100)]
    )
    target_rank = StringField(_l("Target rank"), validators=[Optional(), Length(max=20)])


class TargetImportForm(Form):
    file = FileField(
        _l("Targets file (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a CSV or XLSX file."))],
    )


class UserForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=80)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])


class PasswordForm(Form):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=200)]
    )


class DeskForm(Form):
    name = StringField(_l("Desk name"), validators=[DataRequired(), Length(max=200)])
    unit_id = SelectField(_l("Unit"), coerce=int, choices=[])


class VolumeForm(Form):
    period_start = DateField(_l("From"), validators=[DataRequired()])
    period_end = DateField(_l("To"), validators=[DataRequired()])
    # InputRequired, not DataRequired: 0 is a real volume (a desk closed for the period), and
    # DataRequired treats it as a missing value.
    transactions = IntegerField(
        _l("Transactions"), validators=[InputRequired(), NumberRange(min=0)]
    )


class MarginImportForm(Form):
    file = FileField(
        _l("Margins file (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a CSV or XLSX file."))],
    )
    source = StringField(
        _l("Source of the totals (used where the file has no source column)"),
        validators=[Optional(), Length(max=300)],
    )


try:  # WTForms >= 3.3 deprecates tuples as choices
    from wtforms.fields.choices import SelectChoice

    def _choices(pairs: list[tuple[str, object]]) -> list[object]:
        return [SelectChoice(value, label) for value, label in pairs]

except ImportError:  # pragma: no cover - older WTForms

    def _choices(pairs: list[tuple[str, object]]) -> list[object]:
        return list(pairs)


class OfficialImportForm(Form):
    file = FileField(
        _l("Results file (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a CSV or XLSX file."))],
    )


class OfficialResultForm(Form):
    """One published figure typed in by hand; checked by the same rules as an import."""

    index = SelectField(
        _l("Index"),
        choices=_choices(
            [("sipas", "SIPAS"), ("par_index", "PAR INDEX"), ("papi", "PAPI"), ("pci", "PCI")]
        ),
    )
    kind = SelectField(
        _l("Kind"),
        choices=_choices(
            [
                ("published", _l("Published")),
                ("own_survey", _l("Own survey (before this application)")),
            ]
        ),
    )
    year = StringField(_l("Year"), validators=[DataRequired(), Length(max=4)])
    province_code = StringField(_l("Province code"), validators=[DataRequired(), Length(max=10)])
    province_name = StringField(_l("Province name"), validators=[DataRequired(), Length(max=100)])
    node = StringField(_l("Node (1, 1.1 … or total)"), validators=[DataRequired(), Length(max=20)])
    node_name = StringField(_l("Node name"), validators=[Optional(), Length(max=300)])
    score = StringField(_l("Score"), validators=[Optional(), Length(max=20)])
    max_score = StringField(_l("Maximum score"), validators=[Optional(), Length(max=20)])
    rank = StringField(_l("Rank (e.g. 45/63)"), validators=[Optional(), Length(max=20)])
    se = StringField(_l("Standard error (own survey)"), validators=[Optional(), Length(max=20)])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=300)])


class RegionImportForm(Form):
    file = FileField(
        _l("Regions file (CSV or XLSX: commune_code, region)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a CSV or XLSX file."))],
    )


class CovariateImportForm(Form):
    file = FileField(
        _l("Covariates file (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a CSV or XLSX file."))],
    )


class CrosswalkImportForm(Form):
    file = FileField(
        _l("Crosswalk file (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a CSV or XLSX file."))],
    )


class UnitImportForm(Form):
    file = FileField(
        _l("Units file (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a CSV or XLSX file."))],
    )


class OfficialsFrameForm(Form):
    """The officials' survey frame: the list of officials by agency."""

    file = FileField(
        _l("List of officials (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a CSV or XLSX file."))],
    )
