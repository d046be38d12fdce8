"""Vietnamese translations of the auth area's messages (sessions, passwords, rate limits,
abuse flags, invitations, URLs). Apply with tools/fill_po.py after `make translations`."""

VI = {
    "Current password": "Mật khẩu hiện tại",
    "New password again": "Nhập lại mật khẩu mới",
    "The two new passwords differ.": "Hai lần nhập mật khẩu mới không khớp nhau.",
    "The current password is wrong.": "Mật khẩu hiện tại không đúng.",
    "Your password has been changed.": "Mật khẩu của ông/bà đã được đổi.",
    "Change your password": "Đổi mật khẩu",
    "Changing it logs you out on every other device.": "Sau khi đổi, ông/bà sẽ bị đăng xuất trên mọi thiết bị khác.",
    "Password": "Mật khẩu",
    "The password must not contain the username.": "Mật khẩu không được chứa tên đăng nhập.",
    "This password is too common and easy to guess; choose a longer, unusual one.": "Đây là mật khẩu quá phổ biến, dễ bị đoán; vui lòng chọn mật khẩu dài hơn và ít gặp hơn.",
    "We could not find this invitation code. Check it against your form.": "Không tìm thấy mã mời này. Vui lòng đối chiếu lại với mã in trên phiếu của ông/bà.",
}
