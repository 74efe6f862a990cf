from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kapcare.core"
    label = "core"
    verbose_name = "kapcare core"

    def ready(self) -> None:
        from kapcare.core import checks  # noqa: F401  (registers the system checks)
