"""Settings → API keys: list, create (the secret is shown once), revoke. Admins and owners."""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engagex.accounts.models import ApiKey
from engagex.accounts.selectors import api_key_list
from engagex.accounts.services.api_keys import (
    NAME_MAX_LENGTH,
    api_key_create,
    api_key_revoke,
)
from engagex.accounts.tenancy import get_for_org, organization_required
from engagex.web.tables import Column, Filter, render_table, table_state

COLUMNS = [
    Column("name", gettext_lazy("Name"), sortable=True),
    Column("prefix", gettext_lazy("Key")),
    Column("scopes", gettext_lazy("Scopes")),
    Column("created_at", gettext_lazy("Created"), sortable=True),
    Column("last_used_at", gettext_lazy("Last used"), sortable=True),
    Column("status", gettext_lazy("Status")),
    Column("actions", ""),
]
FILTERS = [
    Filter(
        "status",
        gettext_lazy("Status"),
        [
            ("", gettext_lazy("All keys")),
            ("active", gettext_lazy("Active")),
            ("revoked", gettext_lazy("Revoked")),
        ],
    )
]
SCOPE_HELP = {
    ApiKey.Scope.READ: gettext_lazy("Read contacts, lists, templates, campaigns and stats."),
    ApiKey.Scope.WRITE: gettext_lazy("Create, change and delete them (includes read)."),
    ApiKey.Scope.SEND: gettext_lazy("Send transactional email."),
}
# Form tokens already used for a key, so re-submitting the form (reload, back button)
# does not create a second key and the secret is never shown twice.
USED_TOKENS_SESSION_KEY = "api_key_form_tokens"
USED_TOKENS_KEPT = 20


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("Who or what uses it, e.g. “Shop integration”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKey.Scope.READ],
        error_messages={
            "required": gettext_lazy("Choose at least one scope."),
            "invalid_choice": gettext_lazy("Unknown scope: %(value)s."),
        },
    )
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)


def _new_form(data=None) -> ApiKeyCreateForm:
    return ApiKeyCreateForm(data, initial={"form_token": secrets.token_urlsafe(16)})


def _render_page(request, *, form: ApiKeyCreateForm, created=None, secret: str = ""):
    state = table_state(
        request,
        table_id="api-keys",
        columns=COLUMNS,
        filters=FILTERS,
        default_sort="-created_at",
        search_placeholder=_("Search by name or key prefix"),
    )
    ordering = state.ordering[0]
    if state.sort_key == "last_used_at":
        # Keys never used count as the least recently used.
        last_used = F("last_used_at")
        ordering = (
            last_used.desc(nulls_last=True) if state.descending else last_used.asc(nulls_first=True)
        )
    rows = api_key_list(
        organization=request.organization,
        search=state.search,
        status=state.filter_values["status"],
    ).order_by(ordering, "-created_at")
    context = {
        "table": state,
        "page": state.paginate(rows),
        "row_template": "accounts/_api_key_row.html",
        "empty_title": _("No API keys yet"),
        "empty_text": _("Create a key to connect your own code to EngageX."),
        "empty_icon": "key",
        "has_keys": ApiKey.objects.filter(organization=request.organization).exists(),
        "form": form,
        "scope_help": SCOPE_HELP,
        "created": created,
        "secret": secret,
    }
    return render_table(request, "accounts/api_keys.html", context, state=state)


@organization_required(role="admin")
@require_GET
def key_list(request):
    return _render_page(request, form=_new_form())


@organization_required(role="admin")
@require_http_methods(["GET", "POST"])
def key_create(request):
    if request.method == "GET":
        # The page shown after a POST lives at this URL; its search, sort and page links
        # land here and belong to the list.
        query = request.GET.urlencode()
        return redirect(reverse("accounts:api-keys") + (f"?{query}" if query else ""))
    form = ApiKeyCreateForm(request.POST)
    if form.is_valid():
        token = form.cleaned_data["form_token"]
        used = request.session.get(USED_TOKENS_SESSION_KEY, [])
        if token and token in used:
            messages.info(
                request,
                _("That key was already created. Its secret is shown only once, when created."),
            )
            return redirect("accounts:api-keys")
        try:
            api_key, secret = api_key_create(
                organization=request.organization,
                actor=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if token:
                request.session[USED_TOKENS_SESSION_KEY] = [*used, token][-USED_TOKENS_KEPT:]
            messages.success(request, _("API key “%(name)s” created") % {"name": api_key.name})
            response = _render_page(request, form=_new_form(), created=api_key, secret=secret)
            add_never_cache_headers(response)  # the secret must not linger in any cache
            return response
    messages.error(request, _("The key was not created: fix the errors below."))
    return _render_page(request, form=form)


@organization_required(role="admin")
@require_POST
def key_revoke(request, key_id):
    api_key = get_for_org(ApiKey, request.organization, key_id)
    if not api_key.is_active:
        messages.info(request, _("“%(name)s” was already revoked.") % {"name": api_key.name})
    else:
        api_key_revoke(organization=request.organization, actor=request.user, api_key=api_key)
        messages.success(request, _("API key “%(name)s” revoked") % {"name": api_key.name})
    return redirect("accounts:api-keys")
