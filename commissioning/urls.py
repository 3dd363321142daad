"""The one place where the apps are wired together."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from commissioning import sso_views, views
from monitoring import views as monitoring_views

admin.site.site_header = "Joint commissioning administration"
admin.site.site_title = "Joint commissioning administration"

urlpatterns = [
    path("", monitoring_views.dashboard, name="dashboard"),
    # Sign-in and account
    path("sign-in/", login_not_required(views.SignInView.as_view()), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("sign-in/organisation/", sso_views.organisation_sign_in, name="sso_sign_in"),
    path("sign-in/organisation/callback/", sso_views.organisation_callback,
         name="sso_callback"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password-reset/complete/", views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("account/", views.account, name="account"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/backup-codes/", views.two_factor_backup_codes,
         name="two_factor_backup_codes"),
    path("two-factor/remove/", views.two_factor_remove, name="two_factor_remove"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("organisation/switch/", views.switch_organisation, name="switch_organisation"),
    # Partnerships and people
    path("partnerships/", views.partnership_list, name="partnership_list"),
    path("partnerships/<int:pk>/", views.partnership_detail, name="partnership_detail"),
    path("organisations/<int:pk>/details/", views.organisation_details,
         name="organisation_details"),
    path("people/", views.people, name="people"),
    path("people/invite/", views.invite, name="invite"),
    path("people/invitations/<int:pk>/revoke/", views.invitation_revoke,
         name="invitation_revoke"),
    path("history/<str:label>/<int:pk>/", views.object_history, name="object_history"),
    # Public pages
    path("accessibility/", views.accessibility_statement, name="accessibility"),
    path("healthz/", views.healthcheck, name="healthcheck"),
    # Apps
    path("", include("contracts.urls")),
    path("", include("funding.urls")),
    path("", include("monitoring.urls")),
    path("", include("api.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "commissioning.errors.page_not_found"
handler500 = "commissioning.errors.server_error"
handler403 = "commissioning.errors.permission_denied"
handler400 = "commissioning.errors.bad_request"
