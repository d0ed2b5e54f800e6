from django.urls import path

from engagex.accounts.views import api_keys, onboarding, organizations, team

app_name = "accounts"
urlpatterns = [
    path("onboarding/", onboarding.wizard, name="onboarding"),
    path("organizations/new/", organizations.create, name="organization-create"),
    path("organizations/switch/", organizations.switch, name="organization-switch"),
    path("settings/", organizations.settings_page, name="settings"),
    path("settings/delete/", organizations.delete, name="organization-delete"),
    path("team/", team.members, name="team"),
    path("team/members/<uuid:membership_id>/role/", team.member_role, name="member-role"),
    path("team/members/<uuid:membership_id>/remove/", team.member_remove, name="member-remove"),
    path("team/invitations/", team.invitation_create, name="invitation-create"),
    path(
        "team/invitations/<uuid:invitation_id>/resend/",
        team.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "team/invitations/<uuid:invitation_id>/revoke/",
        team.invitation_revoke,
        name="invitation-revoke",
    ),
    path("invitations/<str:token>/", team.invitation_accept, name="invitation-accept"),
    path("settings/api-keys/", api_keys.key_list, name="api-keys"),
    path("settings/api-keys/new/", api_keys.key_create, name="api-key-create"),
    path("settings/api-keys/<uuid:key_id>/revoke/", api_keys.key_revoke, name="api-key-revoke"),
]
