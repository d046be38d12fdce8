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
    "%(source)s (weight %(weight)s)": "%(source)s (trọng số %(weight)s)",
    "A period in which several campaigns with the same questionnaire collected responses is estimated from all of them: they are independent samples of the same population, so the period's estimate is their weighted mean, each campaign weighted by the share of the period's days it covers, with variance the sum of the squared weights times the campaigns' variances, and its interval on the smallest of their degrees of freedom.": "Kỳ có nhiều đợt khảo sát cùng bộ phiếu thu thập phiếu trả lời được ước lượng từ tất cả các đợt đó: đây là các mẫu độc lập của cùng một tổng thể, nên ước lượng của kỳ là trung bình có trọng số của các đợt, trọng số của mỗi đợt bằng tỷ lệ số ngày của kỳ mà đợt đó diễn ra; phương sai bằng tổng bình phương trọng số nhân với phương sai của từng đợt, khoảng tin cậy tính theo số bậc tự do nhỏ nhất trong các đợt.",
    "The two periods share a campaign: their estimates are domains of its one design (strata, PSUs and calibration), and the change's interval includes the covariance of the two periods' estimates.": "Hai kỳ cùng thuộc một đợt khảo sát: ước lượng của hai kỳ là các miền của cùng một thiết kế mẫu (tầng, đơn vị mẫu cấp 1 và hiệu chỉnh trọng số), và khoảng tin cậy của mức thay đổi đã tính đến hiệp phương sai giữa ước lượng của hai kỳ.",
}
