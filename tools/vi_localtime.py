"""Vietnamese translations of the local-days work (public holidays of the alerts); apply with
tools/fill_po.py after `make translations`."""

VI = {
    "Public holidays (setting HOLIDAYS): %(value)s is not a date; write YYYY-MM-DD, e.g. 2027-02-05.": "Ngày nghỉ lễ (thiết lập HOLIDAYS): %(value)s không phải là một ngày; hãy ghi theo dạng YYYY-MM-DD, ví dụ 2027-02-05.",
}
