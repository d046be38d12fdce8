"""The one adapter from the database to arrays.

Services and views read responses through this package: cell queries pushed into SQL
(``queries``) and the per-response answer folds they read (``bits``). It imports models and
the analysis package, never services or blueprints.
"""
