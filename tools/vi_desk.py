"""Vietnamese translations of the desk questionnaire's pages: the short phone form and its
second step, the kiosk of five faces, the optional full survey, the questionnaire per channel
and the desk indices (apply with tools/fill_po.py after `make translations`)."""

VI = {
    "All desks": "Tất cả bộ phận một cửa",
    "Answer the full survey": "Trả lời phiếu khảo sát đầy đủ",
    "Desk questionnaire indices": "Các chỉ số của phiếu đánh giá nhanh tại quầy",
    "Each channel can ask its own questionnaire, e.g. the short desk form on QR codes and kiosks and the full SIPAS form on paper and invitations. Channels of one sample (paper and invitations; QR and kiosk) must ask the same questionnaire.": "Mỗi kênh có thể dùng một bảng hỏi riêng, ví dụ phiếu đánh giá nhanh tại quầy cho mã QR và máy tại quầy, phiếu SIPAS đầy đủ cho phiếu giấy và thư mời. Các kênh thuộc cùng một mẫu (phiếu giấy và thư mời; mã QR và máy tại quầy) phải dùng cùng một bảng hỏi.",
    "Indices by desk (number of answers in brackets)": "Chỉ số theo bộ phận một cửa (số câu trả lời trong ngoặc)",
    "No desk rating yet.": "Chưa có lượt đánh giá nào tại quầy.",
    "One more question": "Thêm một câu hỏi",
    "Please rate the service you received today. It takes about 30 seconds: tap a rating for each line, then Send.": "Xin ông/bà đánh giá sự phục vụ hôm nay. Chỉ mất khoảng 30 giây: chạm chọn một mức cho mỗi dòng, rồi bấm Gửi.",
    "Questionnaire per channel": "Bảng hỏi theo từng kênh",
    "Questionnaires per channel saved (%(n)d changed).": "Đã lưu bảng hỏi theo từng kênh (%(n)d kênh thay đổi).",
    "Share satisfied (4 or 5) per criterion, computed like the SIPAS indices from every desk rating of the campaign (%(qn)s). Descriptive only: desk ratings are a convenience sample, so these numbers describe the citizens who chose to rate and are never judged against the targets.": "Tỷ lệ hài lòng (mức 4 hoặc 5) theo từng tiêu chí, tính như các chỉ số SIPAS từ mọi lượt đánh giá tại quầy của đợt khảo sát (%(qn)s). Chỉ mang tính mô tả: đánh giá tại quầy là mẫu thuận tiện, nên các số này mô tả những người dân đã chọn đánh giá và không được so sánh với chỉ tiêu.",
    "Skip": "Bỏ qua",
    "Thank you. You gave a rating of 3 or lower: what went wrong? Choose any reasons, or just press Send.": "Cảm ơn ông/bà. Ông/Bà đã chọn mức 3 trở xuống: điều gì chưa tốt? Hãy chọn các lý do, hoặc bấm Gửi ngay.",
    "The campaign's questionnaire (%(label)s)": "Bảng hỏi chung của đợt khảo sát (%(label)s)",
    "The full SIPAS questionnaire takes about five minutes. Your answers stay anonymous and help the province improve its services.": "Phiếu SIPAS đầy đủ mất khoảng năm phút. Câu trả lời của ông/bà vẫn được giữ ẩn danh và giúp tỉnh cải thiện chất lượng phục vụ.",
    "Touch one face. Your answer is anonymous.": "Chạm vào một khuôn mặt. Câu trả lời của ông/bà là ẩn danh.",
    "Touch the main reason.": "Chạm vào lý do chính.",
    "What went wrong?": "Điều gì chưa tốt?",
    "Why?": "Vì sao?",
    "Would you answer the full survey?": "Ông/Bà có muốn trả lời phiếu khảo sát đầy đủ không?",
    "Your ratings": "Các mức ông/bà đã chọn",
    "paper forms always use the campaign's questionnaire": "phiếu giấy luôn dùng bảng hỏi chung của đợt khảo sát",
}
