"""Cross-check of surveyapp's Fay–Herriot fit against samplics' ``EblupAreaModel``.

Writes ``sae-samplics.csv`` (committed, so the tests do not need samplics): samplics 0.6's
REML, ML and FH fits of ``sae-api.csv`` (covariates ``meals``, ``ell``; in-sample counties only,
since samplics' ``predict`` has no out-of-sample path), twice: with samplics' default
convergence tolerance (``tol=1e-4``) and with ``tol=1e-12``.

Run with samplics installed (it is in the project's ``bench`` extra):
``python samplics_crosscheck.py``.

What differs and why (tests/analysis/test_sae.py checks the ``tol=1e-12`` rows):

* samplics' default ``tol=1e-4`` is a relative change in sigma2_u between Fisher-scoring
  steps, started at ``re_std_start**2 = 1e-6``; it stops a little before convergence: on
  ``sae-api.csv`` its REML sigma2_u is 4e-7 relative from the converged value (MSE 4e-7,
  EBLUP 2e-8); FH, whose step is Newton's on the moment equation, is already at 1e-12.
  With ``tol=1e-12`` every value agrees with ours to 1e-13 relative.
* samplics 0.6's ML fit stops after two Fisher-scoring steps whatever ``tol`` says: its
  ML score is a 1-element array, so ``sigma2_v += step`` updates in place the array that
  ``sigma2_v_previous`` also names, the relative change reads 0 and the loop ends. On
  ``sae-api.csv`` its ML sigma2_u is 0.000916 where the score is 787 (not 0); ours, R's
  ``uniroot`` on the score, and samplics restarted from its own estimate until it stops
  moving (the ``tol=1e-12`` rows below) all give 0.0010034. REML and FH have scalar scores
  and converge normally.
* samplics' ML MSE uses ``b = -(1/2 · 1/I(σ²)) · tr[...]`` with the information
  ``I`` of the *last iterate before* the final update; at convergence this is the same as
  Datta–Lahiri's ``-tr[...]/Σ V⁻²`` we use.
* samplics truncates σ²_u at 0 only after the iteration ends (negative iterates are allowed);
  surveyapp clamps each iterate at 0 and stops when the score at 0 is ≤ 0. Both give 0 when
  the likelihood has no positive maximum.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def num(v: Any) -> float:
    """samplics returns 1-element arrays in places."""
    return float(np.ravel(v)[0])


def fit(model: Any, d: pd.DataFrame, x: np.ndarray, tol: float, start: float) -> Any:
    model.fit(
        yhat=d["estimate"].to_numpy(),
        X=x,
        area=d["county"].to_numpy(),
        error_std=d["se"].to_numpy(),
        re_std_start=start,
        tol=tol,
        maxiter=1000,
    )
    return model


def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics import EblupAreaModel
        from samplics.sae.eblup_area_model import FitMethod

    d = pd.read_csv(HERE / "sae-api.csv").dropna(subset=["estimate"])
    x = d[["meals", "ell"]].to_numpy()
    rows = []
    for method in ("reml", "ml", "fh"):
        for tol in (1e-4, 1e-12):
            model = fit(EblupAreaModel(method=FitMethod[method]), d, x, tol, 1e-3)
            if method == "ml" and tol < 1e-6:
                # samplics 0.6 ML stops after 2 Fisher steps (see the module docstring):
                # restart from its own estimate until it stops moving
                for _ in range(500):
                    before = float(np.ravel(model.re_std)[0])
                    model = fit(EblupAreaModel(method=FitMethod[method]), d, x, tol, before)
                    if abs(float(np.ravel(model.re_std)[0]) - before) <= 1e-14 * before:
                        break
            model.predict(X=x, area=d["county"].to_numpy())
            tag = dict(method=method, tol=tol)
            rows.append({**tag, "area": "", "what": "sigma2_u", "value": num(model.re_std) ** 2})
            for j, b in enumerate(np.ravel(model.fixed_effects)):
                rows.append({**tag, "area": "", "what": f"beta{j}", "value": float(b)})
            for j, b in enumerate(np.ravel(model.fe_std)):
                rows.append({**tag, "area": "", "what": f"beta_se{j}", "value": float(b)})
            for a in d["county"]:
                rows.append({**tag, "area": a, "what": "eblup", "value": num(model.area_est[a])})
                rows.append({**tag, "area": a, "what": "mse", "value": num(model.area_mse[a])})
    out = pd.DataFrame(rows)
    out["value"] = out["value"].map(lambda v: format(v, ".17g"))
    out.to_csv(HERE / "sae-samplics.csv", index=False)


if __name__ == "__main__":
    main()
