from django.urls import path

from kapcare.stock import views

app_name = "stock"
urlpatterns = [
    path("", views.balances_view, name="balances"),
    path("lots/new/", views.lot_create_view, name="lot_create"),
    path("lots/<uuid:lot_id>/", views.ledger_view, name="ledger"),
    path("record/<str:kind>/", views.movement_view, name="record"),
    path("transfer/", views.transfer_view, name="transfer"),
    path("locations/", views.locations_view, name="locations"),
    path("reconciliation/", views.reconciliation_view, name="reconciliation"),
]
