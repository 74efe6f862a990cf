from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "kapcare.safety"
    label = "safety"
    verbose_name = "Safety flags and risk assessments"
