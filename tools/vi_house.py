"""Vietnamese translations of the sample titles the report files and pages share (apply with
tools/fill_po.py after `make translations`)."""

VI = {
    "QR – non-probability": "QR – phi xác suất",
    "Invited sample (standalone codes)": "Mẫu mời (mã độc lập)",
}
