from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "kapcare.intake"
    label = "intake"
    verbose_name = "Inquiries"
