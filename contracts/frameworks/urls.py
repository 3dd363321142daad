"""URLs for frameworks, lots, windows, applications and call-offs (under /frameworks/)."""

from django.urls import path

from contracts.frameworks import views

framework_urlpatterns = [
    path("frameworks/", views.framework_list, name="framework_list"),
    path("frameworks/new/", views.framework_create, name="framework_create"),
    path("frameworks/<int:pk>/", views.framework_detail, name="framework_detail"),
    path("frameworks/<int:pk>/edit/", views.framework_edit, name="framework_edit"),
    path("frameworks/<int:pk>/lots/new/", views.lot_create, name="lot_create"),
    path("frameworks/<int:pk>/lots/<int:lot_pk>/", views.lot_detail, name="lot_detail"),
    path("frameworks/<int:pk>/lots/<int:lot_pk>/edit/", views.lot_edit, name="lot_edit"),
    path("frameworks/<int:pk>/lots/<int:lot_pk>/withdraw/", views.lot_withdraw,
         name="lot_withdraw"),
    path("frameworks/<int:pk>/lots/<int:lot_pk>/call-off/", views.call_off_create,
         name="call_off_create"),
    path("frameworks/<int:pk>/windows/", views.windows, name="framework_windows"),
    path("frameworks/<int:pk>/apply/", views.provider_apply, name="framework_apply"),
    path("frameworks/<int:pk>/applications/", views.application_list,
         name="application_list"),
    path("frameworks/applications/<int:application_pk>/", views.application_detail,
         name="application_detail"),
    path("frameworks/applications/<int:application_pk>/evaluate/",
         views.application_evaluate, name="application_evaluate"),
    path("frameworks/call-offs/<int:call_off_pk>/", views.call_off_detail,
         name="call_off_detail"),
]
