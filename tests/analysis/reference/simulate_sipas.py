"""Generate the simulated SIPAS-like survey used by the R reference fixtures.

A stratified two-stage sample: 6 strata, communes (PSUs) drawn without replacement with
``fpc1`` communes in the stratum, respondents drawn within each commune from ``fpc2`` adults.
Answers are 1-5 Likert on q1..q33 with item non-response (feedback items q31-q33 are often
blank). The output is deterministic (seeded); run ``python simulate_sipas.py`` to rewrite
``sipas-sim.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def simulate(seed: int = 20221) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_h = [4, 5, 6, 5, 4, 6]
    big_n_h = [20, 25, 30, 22, 18, 35]
    frames = []
    rid = 0
    for h, (nh, bign) in enumerate(zip(n_h, big_n_h, strict=True), start=1):
        for j in range(nh):
            psu = f"{h}-{j + 1}"
            pop = int(rng.integers(800, 3000))
            m = int(rng.integers(15, 35))
            district = f"D{int(rng.integers(1, 5))}"
            effect = rng.normal(0.0, 0.5)
            latent = effect + rng.normal(0.0, 1.0, size=m)
            item_shift = np.linspace(-0.6, 0.6, 33)
            raw = 3.4 + latent[:, None] + item_shift[None, :] + rng.normal(0, 0.8, (m, 33))
            vals = np.clip(np.rint(raw), 1, 5)
            miss_p = np.full(33, 0.05)
            miss_p[30:] = 0.3
            vals[rng.random((m, 33)) < miss_p[None, :]] = np.nan
            df = pd.DataFrame(vals, columns=[f"q{k}" for k in range(1, 34)])
            df.insert(0, "rid", np.arange(rid + 1, rid + m + 1))
            rid += m
            df.insert(1, "stratum", h)
            df.insert(2, "psu", psu)
            df.insert(3, "fpc1", bign)
            df.insert(4, "fpc2", pop)
            df.insert(5, "w", (bign / nh) * (pop / m))
            df.insert(6, "district", district)
            df.insert(7, "sex", rng.choice(["F", "M"], size=m))
            df.insert(8, "age", rng.choice(["18-34", "35-54", "55+"], size=m, p=[0.3, 0.45, 0.25]))
            frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    for k in range(1, 34):
        out[f"q{k}"] = out[f"q{k}"].astype("Int64")
    return out


if __name__ == "__main__":
    simulate().to_csv(HERE / "sipas-sim.csv", index=False)
