from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "kapcare.notes"
    label = "notes"
    verbose_name = "Preparation and integration session notes"
