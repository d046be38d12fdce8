"""Vietnamese for the safety work (issue 12: input hygiene, sizes, redirects, outages)."""

VI = {
    "Your answers are longer than this form accepts. Go back, shorten your comment and send "
    "the form again.": "Câu trả lời của ông/bà dài hơn mức phiếu cho phép. Xin quay lại, rút "
    "ngắn ý kiến và gửi lại phiếu.",
}
