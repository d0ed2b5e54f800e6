"""The template editor: save (a new version), live preview and checks while typing,
version history with preview and restore, and test sends."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagex.accounts.tenancy import organization_required
from engagex.contacts.emails import InvalidEmail, normalize_email
from engagex.contacts.models import Contact
from engagex.content import selectors, services
from engagex.content.context import custom_fields
from engagex.content.forms import TemplateForm, TestSendForm
from engagex.content.models import TemplateVersion
from engagex.content.rendering import (
    BUILTIN_TAG_HELP,
    RenderLimitExceeded,
    TemplateProblem,
    check_template,
)
from engagex.content.sanitize import sanitize_html
from engagex.content.views.library import live_template
from engagex.content.views.previews import (
    VISUAL_CSP,
    preview_response,
    preview_view,
    problem_document,
    sandboxed_response,
)


def _content_from(data) -> dict:
    return {
        "name": data.get("name", ""),
        "category": data.get("category", ""),
        "subject": data.get("subject", ""),
        "preheader": data.get("preheader", ""),
        "html": data.get("html", ""),
        "text_is_custom": data.get("text_is_custom") in ("on", "true", "1", True),
        "text": data.get("text", ""),
    }


def _merge_tags(organization) -> list[dict]:
    # `fields` itself prints nothing useful: each custom field is offered on its own.
    tags = [
        {"tag": name, "help": help_text}
        for name, help_text in BUILTIN_TAG_HELP.items()
        if name != "fields"
    ]
    tags += [
        {"tag": f"fields.{field.key}", "help": field.label, "custom": True}
        for field in custom_fields(organization)
    ]
    return tags


def _editor(request, template, form, *, status=200):
    organization = request.organization
    context = {
        "template": template,
        "form": form,
        "merge_tags": _merge_tags(organization),
        "versions": selectors.template_versions(organization=organization, template=template)[:50],
        "test_form": TestSendForm(),
        "test_sends_left": services.test_sends_left(organization),
        "can_write": request.membership.can_write,
        # Shown as examples in the merge-tag panel; passed in because Django's template
        # language would read the braces as its own.
        "example_default": '{{ first_name|default("there") }}',
        "example_spintax": "{Hi|Hello}",
        "example_logic": "{% if %}, {% for %}",
    }
    return render(request, "content/template_editor.html", context, status=status)


@require_http_methods(["GET", "POST"])
@organization_required()
def template_edit(request, pk):
    template = live_template(request, pk)
    if request.method == "GET":
        return _editor(request, template, TemplateForm(initial=template.content()))
    if not request.membership.can_write:
        raise PermissionDenied
    form = TemplateForm(request.POST)
    if not form.is_valid():
        return _editor(request, template, form, status=422)
    try:
        saved = services.template_update(
            organization=request.organization,
            actor=request.user,
            template=template,
            **form.cleaned_data,
        )
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
        return _editor(request, template, form, status=422)
    if saved.sanitized:
        messages.warning(
            request,
            _("Saved. Unsafe markup (scripts, event handlers, forms or frames) was removed."),
        )
    else:
        messages.success(
            request, _("Saved as version %(number)s") % {"number": saved.template.version_count}
        )
    return redirect("content:edit", template.pk)


@require_http_methods(["GET", "POST"])
@organization_required()
@preview_view
def template_preview(request, pk):
    """GET: the saved template (or `?version=N`); POST: what is in the editor now."""
    template = live_template(request, pk)
    organization = request.organization
    dark = (request.POST if request.method == "POST" else request.GET).get("dark") == "1"
    if request.method == "POST":
        content = _content_from(request.POST)
        try:
            # Checked and sanitized exactly as a save would be, but not stored.
            content, _sanitized = services.clean_content(
                {**content, "name": content["name"] or template.name}
            )
        except ValidationError as error:
            return sandboxed_response(problem_document(" ".join(error.messages)))
    elif request.GET.get("version"):
        try:
            number = int(request.GET["version"])
            content = selectors.template_version_get(
                organization=organization, template=template, number=number
            ).content()
        except (ValueError, TemplateVersion.DoesNotExist):
            raise Http404 from None
    else:
        content = template.content()
    return preview_response(lambda: services.render_content(organization, content).html, dark=dark)


@require_POST
@organization_required(write=True)
@preview_view
def template_visual(request, pk):
    """The visual editor's document: the HTML being edited, sanitized, merge tags shown
    as typed. editor.js switches it to design mode and writes changes back to the HTML."""
    live_template(request, pk)
    html = request.POST.get("html", "")
    if len(html) > services.HTML_MAX_CHARS or "\x00" in html:
        return sandboxed_response(problem_document(_("This HTML can't be edited visually.")))
    return sandboxed_response(sanitize_html(html), csp=VISUAL_CSP)


@require_POST
@organization_required()
def template_check(request, pk):
    """The editor's live panel: rendered subject/preheader, the plain-text part, problems
    and unknown merge tags."""
    live_template(request, pk)
    organization = request.organization
    content = _content_from(request.POST)
    fields = custom_fields(organization)
    check = check_template(
        subject=content["subject"],
        preheader=content["preheader"],
        html=content["html"],
        text=content["text"] if content["text_is_custom"] else "",
        known_fields=[field.key for field in fields],
    )
    rendered = None
    problems = [str(problem) for problem in check.problems]
    if not problems:
        try:
            rendered = services.render_content(organization, content)
        except (TemplateProblem, RenderLimitExceeded) as error:
            problems.append(str(error))
    return render(
        request,
        "content/_editor_check.html",
        {"problems": problems, "unknown_tags": check.unknown_tags, "rendered": rendered},
    )


@require_POST
@organization_required(write=True)
def template_restore(request, pk, number):
    template = live_template(request, pk)
    try:
        version = selectors.template_version_get(
            organization=request.organization, template=template, number=number
        )
    except TemplateVersion.DoesNotExist:
        raise Http404 from None
    saved = services.template_version_restore(
        organization=request.organization, actor=request.user, template=template, version=version
    )
    messages.success(
        request,
        _("Version %(old)s restored as version %(new)s")
        % {"old": number, "new": saved.template.version_count},
    )
    return redirect("content:edit", template.pk)


@require_POST
@organization_required(write=True)
def template_test_send(request, pk):
    template = live_template(request, pk)
    organization = request.organization
    form = TestSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("content:edit", template.pk)
    contact = None
    if form.cleaned_data["contact"]:
        try:
            email = normalize_email(form.cleaned_data["contact"])
            contact = Contact.objects.get(
                organization=organization, email=email, deleted_at__isnull=True
            )
        except (InvalidEmail, Contact.DoesNotExist):
            messages.error(
                request,
                _("No contact with that address: fill the tags with sample data or pick another."),
            )
            return redirect("content:edit", template.pk)
    try:
        sent = services.template_test_send(
            organization=organization,
            actor=request.user,
            template=template,
            recipients=form.cleaned_data["recipients"],
            contact=contact,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("content:edit", template.pk)
    messages.success(
        request,
        _("Test sent to %(addresses)s") % {"addresses": ", ".join(sent)},
    )
    return redirect("content:edit", template.pk)
