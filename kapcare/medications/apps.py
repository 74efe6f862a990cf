from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MedicationsConfig(AppConfig):
    name = "kapcare.medications"
    label = "medications"
    verbose_name = "Medication catalogue"

    def ready(self) -> None:
        from kapcare.medications.seed import seed_catalogue_after_migrate

        # After migrate and after a test flush: an empty catalogue is filled with the defaults.
        post_migrate.connect(seed_catalogue_after_migrate, sender=self)
