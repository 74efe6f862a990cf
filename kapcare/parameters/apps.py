from django.apps import AppConfig


class ParametersConfig(AppConfig):
    name = "kapcare.parameters"
    label = "parameters"
    verbose_name = "Clinical rule parameters"
