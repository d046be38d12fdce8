"""Vietnamese translations of the desk standard, alerts and bulletin messages (apply with
tools/fill_po.py after `make translations`)."""

VI = {
    "Desk standard": "Chuẩn chất lượng bộ phận một cửa",
    "Window: choose 7, 30, 90 or 365 days.": "Khoảng thời gian: chọn 7, 30, 90 hoặc 365 ngày.",
    "Window: the last day must be a date (YYYY-MM-DD).": "Khoảng thời gian: ngày cuối phải là một ngày (YYYY-MM-DD).",
    "not recorded": "chưa ghi nhận",
    "Desk": "Bộ phận một cửa",
    "Commune centre": "Trung tâm hành chính công cấp xã",
    "Unit": "Đơn vị",
    "Ratings": "Số lượt đánh giá",
    "Good or very good": "Tốt hoặc rất tốt",
    "Difference from the standard": "Chênh lệch so với chuẩn",
    "Transactions": "Số giao dịch",
    "Ratings per 100 transactions": "Số lượt đánh giá trên 100 giao dịch",
    "Standard of the Đồng Nai plan: more than %(share)s of administrative procedures rated good or better.": "Chuẩn theo kế hoạch của tỉnh Đồng Nai: trên %(share)s chất lượng giải quyết thủ tục hành chính được đánh giá đạt mức tốt trở lên.",
    "Desk ratings (QR code and kiosk) are a convenience sample: these shares describe the citizens who chose to rate, not all visitors. A low number of ratings per 100 transactions suggests the QR sheet is not being offered.": "Đánh giá tại bộ phận một cửa (mã QR và ki-ốt) là mẫu thuận tiện: các tỷ lệ này mô tả những người dân đã chọn đánh giá, không phải mọi người đến giao dịch. Số lượt đánh giá trên 100 giao dịch thấp cho thấy phiếu mã QR có thể chưa được giới thiệu cho người dân.",
    "Window": "Khoảng thời gian",
    "%(n)s days": "%(n)s ngày",
    "Last day": "Ngày cuối",
    "Show": "Xem",
    "From %(start)s to %(end)s.": "Từ ngày %(start)s đến ngày %(end)s.",
    "Open alerts": "Cảnh báo đang mở",
    "Desks": "Các bộ phận một cửa",
    "Commune centres": "Các trung tâm hành chính công cấp xã",
}
VI.update(
    {
        "%(desk)s (%(unit)s): ratings below the 80%% standard (CUSUM %(stat)s ≥ %(h)s).": "%(desk)s (%(unit)s): đánh giá dưới chuẩn 80%% (CUSUM %(stat)s ≥ %(h)s).",
        "%(desk)s (%(unit)s): no rating on %(day)s, a working day that usually has %(usual)s.": "%(desk)s (%(unit)s): không có đánh giá nào ngày %(day)s, một ngày làm việc thường có %(usual)s lượt.",
        "Open since %(when)s.": "Mở từ %(when)s.",
        "Desk alerts (rating below the standard, volume collapse).": "Cảnh báo bộ phận một cửa (đánh giá dưới chuẩn, số lượt đánh giá sụt giảm).",
        "%(ratings)d new ratings at %(desks)d desks; %(opened)d alerts opened, %(closed)d closed; e-mails: %(sent)d sent, %(held)d held, %(failed)d failed.": "%(ratings)d lượt đánh giá mới tại %(desks)d bộ phận; mở %(opened)d cảnh báo, đóng %(closed)d; thư điện tử: đã gửi %(sent)d, đang giữ %(held)d, lỗi %(failed)d.",
    }
)
