"""Vietnamese translations of the fold command (apply with tools/fill_po.py after
`make translations`)."""

VI = {
    "Folded %(tallied)d changed responses into the desk tallies and the answers of %(folded)d new responses into bit masks.": "Đã cập nhật %(tallied)d phiếu thay đổi vào bảng cộng dồn theo quầy và gộp câu trả lời của %(folded)d phiếu mới.",
}
