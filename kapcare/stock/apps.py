from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "kapcare.stock"
    label = "stock"
    verbose_name = "Controlled-substance log"
