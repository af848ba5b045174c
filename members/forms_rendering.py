from django import forms
from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting

GENERIC_REQUIRED = forms.Field.default_error_messages["required"]

_CHOOSING = (
    forms.Select,
    forms.RadioSelect,
    forms.CheckboxSelectMultiple,
    forms.SelectMultiple,
)


def required_message(field: forms.Field, label: str) -> str:
    """What to say when a required field is left empty, named from its
    label ("Enter your email address", "Select a grade"), so an error
    summary never lists "This field is required." three times."""
    label = str(label).strip().rstrip(":.").replace(" (again)", " again")
    # "Email address" reads "email address"; "ODS code" keeps its capitals.
    named = label[:1].lower() + label[1:] if label[1:2].islower() else label
    widget = field.widget
    if isinstance(widget, forms.CheckboxInput):
        return f"Tick the box to confirm: {named}."
    if isinstance(widget, forms.ClearableFileInput | forms.FileInput):
        return f"Choose a file for {named}."
    if isinstance(widget, _CHOOSING):
        return f"Select {named}."
    if named.startswith(("your ", "the ", "a ", "an ")):
        return f"Enter {named}."
    return f"Enter your {named}."


class PortalBoundField(BoundField):
    """Gives a required field with Django's generic message one named
    from its label. Forms build their bound fields before cleaning them,
    so the message is the one validation gives; a form's own message
    stays."""

    def __init__(self, form, field, name):
        super().__init__(form, field, name)
        if field.required and field.error_messages.get("required") == GENERIC_REQUIRED:
            # form.fields are the form's own copies: the class is untouched.
            field.error_messages = {
                **field.error_messages,
                "required": required_message(field, self.label),
            }


class PortalFormRenderer(TemplatesSetting):
    """Render every form, the portal's and allauth's, with one markup.

    Labels above inputs, hints and errors tied to the input with
    ``aria-describedby`` (Django adds the ids), and an error summary at the
    top of the form that links to each field.
    """

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
    bound_field_class = PortalBoundField
