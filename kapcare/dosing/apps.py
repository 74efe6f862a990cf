from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "kapcare.dosing"
    label = "dosing"
    verbose_name = "Dosing sessions"

    def ready(self) -> None:
        # Register the dosing rules' parameters (thresholds, limits, holds) with their sources.
        from kapcare.dosing import parameters  # noqa: F401
