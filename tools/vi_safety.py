"""Vietnamese for the safety work (issue 12: input hygiene, sizes, redirects, outages)."""

VI = {
    "Your answers are longer than this form accepts. Go back, shorten your comment and send "
    "the form again.": "Câu trả lời của ông/bà dài hơn mức phiếu cho phép. Xin quay lại, rút "
    "ngắn ý kiến và gửi lại phiếu.",
    "Table %(table)s, row %(row)d (line %(line)d of the backup) cannot be written: "
    "%(reason)s. Nothing was restored.": "Không ghi được bảng %(table)s, dòng %(row)d (dòng "
    "%(line)d của tệp sao lưu): %(reason)s. Chưa khôi phục dữ liệu nào.",
    "Please try again in a moment": "Xin thử lại sau ít phút",
    "The system is briefly unavailable. Please try again in a minute; a form sent again is "
    "counted only once.": "Hệ thống tạm thời gián đoạn. Xin ông/bà thử lại sau một phút; phiếu "
    "gửi lại chỉ được tính một lần.",
}
