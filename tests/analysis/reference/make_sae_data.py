"""Build the small-area data sets the Fay–Herriot fixtures are computed on.

``sae-api.csv``: California counties from R survey's ``apipop`` (6,194 schools). Each county
is a small area; a seeded simple random sample of schools per county gives the direct
estimate of the county's mean API score (``api00 / 1000``) and its SRS standard error with
finite-population correction. Covariates are county means from the whole population, as
administrative data would be: share of pupils on subsidised meals (``meals``) and share of
English-language learners (``ell``). Counties with fewer than 4 schools, and 5 more drawn at
random, are left out of the sample (empty estimate and se) so the out-of-sample path is
exercised.

``sae-flat.csv``: 15 synthetic communes whose direct estimates vary less than their design
variances say: every estimator of sigma2_u is truncated at 0.

Deterministic (seeded); run ``python make_sae_data.py`` to rewrite both files. Needs
``/work/shared/data/api/apipop.csv`` (or ``API_DATA``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
API = Path(os.environ.get("API_DATA", "/work/shared/data/api"))


def api_counties(seed: int = 13) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pop = pd.read_csv(API / "apipop.csv")
    rows = []
    counties = sorted(pop["cname"].unique())
    dropped = set(rng.choice(counties, size=5, replace=False))
    for c in counties:
        g = pop[pop["cname"] == c]
        big = len(g)
        row = {
            "county": c,
            "meals": round(g["meals"].mean() / 100, 6),
            "ell": round(g["ell"].mean() / 100, 6),
            "schools": big,
            "n": 0,
            "estimate": "",
            "se": "",
        }
        if big >= 4 and c not in dropped:
            n = int(min(big - 1, max(3, round(big / 40))))
            s = g["api00"].to_numpy()[rng.choice(big, size=n, replace=False)] / 1000
            se = s.std(ddof=1) / np.sqrt(n) * np.sqrt(1 - n / big)
            row.update(n=n, estimate=round(float(s.mean()), 6), se=round(float(se), 6))
        rows.append(row)
    return pd.DataFrame(rows)


def flat_communes(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = 15
    x = np.round(rng.uniform(0.2, 0.9, k), 4)
    se = np.round(rng.uniform(0.08, 0.15, k), 4)
    # residual spread well below the design SEs: the moment and likelihood equations have no
    # positive root
    y = np.round(0.55 + 0.2 * x + rng.normal(0, 0.02, k), 4)
    return pd.DataFrame(
        {"commune": [f"Xã {i + 1:02d}" for i in range(k)], "estimate": y, "se": se, "online": x}
    )


if __name__ == "__main__":
    api_counties().to_csv(HERE / "sae-api.csv", index=False)
    flat_communes().to_csv(HERE / "sae-flat.csv", index=False)
