"""Eligibility pages (主动推送) under /eligibility/: coverage, outreach tasks, the rule editor."""

from django.urls import path

from shequ.servicedesk import views_eligibility as views

app_name = "eligibility"
urlpatterns = [
    path("", views.index, name="index"),
    path("people/", views.people, name="people"),
    path("people/<str:pk>/", views.detail, name="detail"),
    path("people/<str:pk>/<slug:state>/", views.act, name="act"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/check/", views.rule_check, name="rule_check"),
    path("rules/<slug:code>/", views.rule_edit, name="rule_edit"),
    path("rules/<slug:code>/run/", views.rule_run, name="rule_run"),
]
