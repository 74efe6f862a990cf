from django.urls import path

from kapcare.dosing import rems_views as views

app_name = "rems"
urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("site/", views.site_view, name="site"),
    path("<uuid:form_id>/", views.form_view, name="form"),
    path("<uuid:form_id>/pdf", views.pdf_view, name="pdf"),
    path("<uuid:form_id>/refresh", views.refresh_view, name="refresh"),
    path("<uuid:form_id>/submit", views.submit_view, name="submit"),
]
