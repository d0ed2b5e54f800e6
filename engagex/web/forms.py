"""Every Django form renders in the design system: `{{ form }}`, `{{ field.as_field_group }}`."""

from django.forms.renderers import TemplatesSetting


class DesignSystemFormRenderer(TemplatesSetting):
    form_template_name = "components/form.html"
    field_template_name = "components/form_field.html"
