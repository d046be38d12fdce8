"""One source for the verdict labels and the sample titles (issue 16 §2): the dashboard shows
them in the reader's language, the report files in Vietnamese, both from the same table."""

from __future__ import annotations

from flask import Flask

from surveyapp.analysis import targets
from surveyapp.services import reports


def test_verdict_labels_follow_the_reader_and_the_files_read_them_in_vietnamese(
    app: Flask,
) -> None:
    assert set(reports.VERDICT_LABELS) == set(targets.VERDICTS)
    with app.test_request_context("/?lang=en"):
        shown = {code: str(label) for code, label in reports.VERDICT_LABELS.items()}
        assert shown == {"met": "Met", "not_met": "Not met", "inconclusive": "Not yet decidable"}
        # the files are Vietnamese whatever the reader's language
        assert reports.vietnamese(reports.VERDICT_LABELS) == {
            "met": "Đạt",
            "not_met": "Không đạt",
            "inconclusive": "Chưa đủ căn cứ",
        }
        assert str(reports.VERDICT_LABELS["met"]) == "Met"  # and the reader's is restored


def test_every_sample_has_one_title(app: Flask) -> None:
    assert set(reports.SAMPLE_TITLES) == set(reports.SAMPLES)
    with app.test_request_context("/?lang=en"):
        assert reports.vietnamese(reports.SAMPLE_TITLES) == {
            "probability": "Mẫu xác suất",
            "convenience": "QR – phi xác suất",
            "invited": "Mẫu mời (mã độc lập)",
        }
        assert str(reports.SAMPLE_TITLES["probability"]) == "Probability sample"


def test_verdict_reasons_have_one_table_the_pages_and_the_files_read(app: Flask) -> None:
    from surveyapp.services import periodic, report_files

    assert set(reports.VERDICT_REASON_LABELS) == set(targets.VERDICT_REASONS)
    row = {"verdict": "inconclusive", "verdict_reason": "small_sample"}
    with app.test_request_context("/?lang=en"):
        assert periodic.reason_text("se_zero") == (
            "standard error is zero: too few different answers"
        )
        assert periodic.reason_text("no_estimate") == "no estimate"
        assert periodic.reason_text(None) == ""
        # the report file's note is Vietnamese whatever the reader's language
        assert report_files.note(row) == (
            "Chưa kết luận: mẫu nhỏ: dưới 30 câu trả lời, hoặc độ chính xác thấp (CV trên 0,20)"
        )
        assert report_files.note({**row, "verdict_reason": "ci_contains_target"}) == ""
