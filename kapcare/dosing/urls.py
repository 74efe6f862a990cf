from django.urls import path

from kapcare.dosing import views

app_name = "dosing"

SESSION = "clients/<uuid:client_id>/dosing/<uuid:session_id>/"

urlpatterns = [
    path(
        "clients/<uuid:client_id>/appointments/<uuid:appointment_id>/dosing/",
        views.open_view,
        name="open",
    ),
    path(SESSION, views.session_view, name="session"),
    path(SESSION + "panel/", views.panel_view, name="panel"),
    path(SESSION + "pre-check/", views.pre_check_view, name="pre_check"),
    path(SESSION + "dose/", views.dose_view, name="dose"),
    path(SESSION + "vitals/", views.vitals_view, name="vitals"),
    path(SESSION + "scale/", views.scale_view, name="scale"),
    path(SESSION + "side-effect/", views.side_effect_view, name="side_effect"),
    path(SESSION + "work/", views.work_view, name="work"),
    path(SESSION + "adverse-event/", views.adverse_event_view, name="adverse_event"),
    path(SESSION + "discharge/", views.discharge_view, name="discharge"),
    path(SESSION + "instructions/", views.instructions_view, name="instructions"),
    path(SESSION + "sign/", views.sign_view, name="sign"),
]
