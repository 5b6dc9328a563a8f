from django.urls import path

from shequ.cases import views, views_analysis

app_name = "cases"
urlpatterns = [
    path("", views.case_index, name="index"),
    path("all/", views.case_list, name="list"),
    path("report/", views.case_report, name="report"),
    path("duplicates/", views.case_duplicates, name="duplicates"),
    path("analysis/", views_analysis.analysis_page, name="analysis"),
    path("analysis/places/", views_analysis.analysis_places, name="analysis_places"),
    path("analysis/export/", views_analysis.analysis_export, name="analysis_export"),
    path("<str:ref>/", views.case_detail, name="detail"),
    path("<str:ref>/photos/<str:photo_id>/", views.case_photo, name="photo"),
    path("<str:ref>/act/<str:move>/", views.case_act, name="act"),
    path("<str:ref>/tasks/<str:task_id>/answer/", views.task_answer, name="task_answer"),
]

public_urlpatterns = [
    path("", views.track_form, name="track"),
    path("<uuid:token>/", views.track, name="track_case"),
]
