"""Vietnamese translations of the honest-statistics messages (issue 12; apply with
tools/fill_po.py after `make translations`)."""

VI = {
    "standard error is zero: too few different answers": "sai số chuẩn bằng 0: quá ít câu trả lời khác nhau",
    "small sample: fewer than 30 answers, or too imprecise (CV above 0.20)": "mẫu nhỏ: dưới 30 câu trả lời, hoặc độ chính xác thấp (CV trên 0,20)",
    "no estimate": "không có ước lượng",
}
