from django.urls import path

from shequ.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.inbox, name="index"),
    path("read/", views.mark_read, name="read"),
]
