"""Vietnamese translations of the periodic reports' exact period change and combined
campaigns, and the officials' results workbook (apply with tools/fill_po.py after
`make translations`)."""

VI = {
    "Agency code": "Mã cơ quan",
    "%(node)s: share of maximum": "%(node)s: tỷ lệ so với điểm tối đa",
    "%(node)s: CI low": "%(node)s: cận dưới khoảng tin cậy",
    "%(node)s: CI high": "%(node)s: cận trên khoảng tin cậy",
    "%(node)s: points": "%(node)s: điểm",
    "%(node)s: points CI low": "%(node)s: điểm, cận dưới khoảng tin cậy",
    "%(node)s: points CI high": "%(node)s: điểm, cận trên khoảng tin cậy",
    "%(node)s: maximum points": "%(node)s: điểm tối đa",
    "No answer yet from %(agencies)s.": "Chưa có trả lời của %(agencies)s.",
    "Shares are of each node's maximum, weighted within each agency by listed ÷ answered; points are the share times the node's maximum; intervals at 95%%.": "Tỷ lệ tính so với điểm tối đa của từng lĩnh vực, trọng số trong mỗi cơ quan bằng số người trong danh sách ÷ số người đã trả lời; điểm bằng tỷ lệ nhân với điểm tối đa; khoảng tin cậy 95%%.",
    "--format xlsx writes a file: give it with --output FILE.": "--format xlsx ghi ra tệp: hãy chỉ định tệp bằng --output TỆP.",
    "Written: %(path)s": "Đã ghi: %(path)s",
    "Download results by agency (XLSX)": "Tải kết quả theo cơ quan (XLSX)",
}
