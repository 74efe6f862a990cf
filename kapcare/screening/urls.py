from django.urls import path

from kapcare.screening import views

app_name = "screening"

HISTORY_PATHS = {
    "trial": "trials",
    "augmentation": "augmentations",
    "ect": "ect",
    "psychotherapy": "psychotherapy",
}

urlpatterns = [
    path("<uuid:client_id>/screening/", views.screening_view, name="page"),
    path("<uuid:client_id>/screening/episode/", views.episode_view, name="episode"),
    path("<uuid:client_id>/screening/questions/", views.questions_view, name="questions"),
    path("<uuid:client_id>/screening/blood-pressure/", views.bp_view, name="bp"),
    path(
        "<uuid:client_id>/screening/medications/", views.medication_add_view, name="medication_add"
    ),
    path(
        "<uuid:client_id>/screening/medications/<uuid:item_id>/stop/",
        views.medication_stop_view,
        name="medication_stop",
    ),
    path("<uuid:client_id>/screening/decision/", views.decision_view, name="decision"),
]
for kind, segment in HISTORY_PATHS.items():
    urlpatterns += [
        path(
            f"<uuid:client_id>/screening/{segment}/",
            views.history_add_view,
            {"kind": kind},
            name=f"{kind}_add",
        ),
        path(
            f"<uuid:client_id>/screening/{segment}/<uuid:item_id>/",
            views.history_edit_view,
            {"kind": kind},
            name=f"{kind}_edit",
        ),
        path(
            f"<uuid:client_id>/screening/{segment}/<uuid:item_id>/remove/",
            views.history_remove_view,
            {"kind": kind},
            name=f"{kind}_remove",
        ),
    ]
