from django.test import Client as HttpClient


def test_home_needs_sign_in(db: None) -> None:
    response = HttpClient().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
