from django.forms.renderers import TemplatesSetting


class PortalFormRenderer(TemplatesSetting):
    """Render every form, the portal's and allauth's, with one markup.

    Labels above inputs, hints and errors tied to the input with
    ``aria-describedby`` (Django adds the ids), and an error summary at the
    top of the form that links to each field.
    """

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
