from django.apps import AppConfig
from django.db.models.signals import post_save


class OutcomesConfig(AppConfig):
    name = "kapcare.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes (client progress and practice reports)"

    def ready(self) -> None:
        # The per-course summaries follow the records they are computed from.
        from kapcare.outcomes import summaries

        for model in summaries.WATCHED:
            post_save.connect(
                summaries.watch, sender=model, dispatch_uid=f"outcomes.watch.{model.__name__}"
            )
