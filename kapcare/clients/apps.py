from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "kapcare.clients"
    label = "clients"
    verbose_name = "Clients"
