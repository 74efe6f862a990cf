from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "kapcare.courses"
    label = "courses"
    verbose_name = "Treatment courses"

    def ready(self) -> None:
        # Register each protocol's settings as versioned rule parameters.
        from kapcare.courses import parameters  # noqa: F401
