from __future__ import annotations


def test_404_is_vietnamese_without_trace(client) -> None:
    response = client.get("/khong-co-trang-nay")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Không tìm thấy trang" in page and "Traceback" not in page


def test_api_404_is_json(login_as) -> None:
    client = login_as("analyst")
    response = client.get("/api/v1/campaigns/999")
    assert response.status_code == 404 and response.is_json
    assert "error" in response.json


def test_405_and_413_are_vietnamese(app, client) -> None:
    response = client.post("/")
    assert response.status_code == 405
    assert "Không thể dùng trang này theo cách đó" in response.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 10
    response = client.post("/login", data={"username": "x" * 100, "password": "y"})
    assert response.status_code == 413
    assert "Tệp quá lớn" in response.get_data(as_text=True)


def test_500_shows_no_trace(app, client) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret detail")

    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret detail" not in page and "Đã xảy ra lỗi" in page
