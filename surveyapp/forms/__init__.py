"""Flask-WTF forms. Respondent and entry forms are built at runtime from stored questions."""
