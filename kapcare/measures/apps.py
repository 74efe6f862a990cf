from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "kapcare.measures"
    label = "measures"
    verbose_name = "Measures (questionnaires and rating scales)"

    def ready(self) -> None:
        from django.conf import settings

        from kapcare.measures.instruments import INSTRUMENTS
        from kapcare.measures.licensed_text import load_into

        load_into(INSTRUMENTS, settings.INSTRUMENT_TEXT_DIR)
