"""Time the comments page's search on N generated comments (SQLite or DATABASE_URL).

.venv/bin/python bench/comments_search.py 100000
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from comments_support import desk_campaign
from support import make_config

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Answer, Base, Response
from surveyapp.services import comments

WORDS = [
    "chờ",
    "lâu",
    "quá",
    "cán",
    "bộ",
    "nhiệt",
    "tình",
    "hồ",
    "sơ",
    "bổ",
    "sung",
    "nhiều",
    "lần",
    "hướng",
    "dẫn",
    "rõ",
    "ràng",
    "phí",
]


def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    app = create_app(make_config(tmp, None))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        ctx = desk_campaign()
        qn, item = ctx["qn"], ctx["campaign"]
        q = {x.code: x.id for x in qn.questions}
        desk = ctx["desks"][0]
        rng = random.Random(1)
        rows, answers = [], []
        for i in range(1, n + 1):
            rows.append(
                dict(
                    id=i,
                    campaign_id=item.id,
                    questionnaire_id=qn.id,
                    channel="qr",
                    status="final",
                    nonce=f"n{i}",
                    unit_id=desk.unit_id,
                    service_point_id=desk.id,
                    language="vi",
                    flags=[],
                )
            )
            low = rng.randint(1, 5)
            answers.append(dict(response_id=i, question_id=q["d_overall"], value=low, text=None))
            text = " ".join(rng.choice(WORDS) for _ in range(15))
            answers.append(dict(response_id=i, question_id=q["d_why"], value=None, text=text))
            if low <= 3:
                answers.append(
                    dict(
                        response_id=i,
                        question_id=q["d_reasons"],
                        value=None,
                        text=str(rng.randint(1, 3)),
                    )
                )
        db.session.execute(Response.__table__.insert(), rows)
        db.session.execute(Answer.__table__.insert(), answers)
        db.session.commit()
        t = time.perf_counter()
        comments.index_comments(item, comments.layout(item))
        print(f"first read, folding {n} comments: {time.perf_counter() - t:.2f} s")
        for search in ("", "cho lau", "nhiet tinh ho"):
            with app.test_request_context():
                t = time.perf_counter()
                page = comments.page(item, comments.CommentFilters(search=search), 1, "vi")
                print(
                    f"page 1, search {search!r}: {page.total} rows, "
                    f"{(time.perf_counter() - t) * 1000:.0f} ms"
                )
        with app.test_request_context():
            t = time.perf_counter()
            comments.reason_counts(item, comments.CommentFilters(), "vi")
            print(f"reason counts: {(time.perf_counter() - t) * 1000:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
