from django.urls import path

from kapcare.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.inquiry_list_view, name="list"),
    path("<uuid:inquiry_id>/", views.inquiry_detail_view, name="detail"),
    path("<uuid:inquiry_id>/contact/", views.inquiry_contact_view, name="contact"),
    path("<uuid:inquiry_id>/book/", views.inquiry_book_view, name="book"),
    path("<uuid:inquiry_id>/outcome/", views.inquiry_outcome_view, name="outcome"),
    path("<uuid:inquiry_id>/close/", views.inquiry_close_view, name="close"),
    path("<uuid:inquiry_id>/convert/", views.inquiry_convert_view, name="convert"),
]
