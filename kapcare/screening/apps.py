from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "kapcare.screening"
    label = "screening"
    verbose_name = "Eligibility and safety screening"

    def ready(self) -> None:
        # Register the screening parameters, and listen for changes that can move a screen.
        from kapcare.screening import parameters, receivers  # noqa: F401
