from django import forms
from django.conf import settings

# The markup of each unbound event form, by class, prefix and fields. An
# unbound form holds nothing of the event or the viewer (no initial values,
# no choices), so the busiest pages render each one once per process rather
# than through a dozen template includes per request.
_UNBOUND_HTML: dict[tuple, str] = {}


class _EventForm(forms.Form):
    """Online events serve no food: their forms have no dietary field, so
    nothing typed into one is taken."""

    def __init__(self, *args, event=None, **kwargs):
        super().__init__(*args, **kwargs)
        if event is not None and event.is_online:
            del self.fields["dietary_requirements"]

    def render(self, template_name=None, context=None, renderer=None):
        # Bound forms carry what was typed and their errors: always fresh.
        # With DEBUG on, an edited template shows at once.
        if self.is_bound or template_name or context or renderer or settings.DEBUG:
            return super().render(template_name, context, renderer)
        key = (type(self), self.prefix, self.auto_id, tuple(self.fields))
        html = _UNBOUND_HTML.get(key)
        if html is None:
            html = _UNBOUND_HTML[key] = super().render()
        return html

    # RenderableMixin binds these to its own render, not an override.
    __str__ = render
    __html__ = render


class RegistrationForm(_EventForm):
    """A visitor's details, typed in."""

    name = forms.CharField(
        label="Full name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Enter your full name."},
    )
    email = forms.EmailField(
        label="Email address",
        help_text="We send your confirmation here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address like name@example.org.",
        },
    )
    organisation = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
        error_messages={"required": "Enter your organisation, for example your practice."},
    )
    role = forms.CharField(
        label="Role",
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
        error_messages={"required": "Enter your role."},
    )
    access_requirements = forms.CharField(
        label="Access requirements (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything that would help you take part: step-free access, a "
        "hearing loop, captions.",
    )
    dietary_requirements = forms.CharField(
        label="Dietary requirements (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MemberRegistrationForm(_EventForm):
    """A signed-in person registers in one step: who they are comes from
    their account and profile, so only what is about this event is asked."""

    access_requirements = RegistrationForm.base_fields["access_requirements"]
    dietary_requirements = RegistrationForm.base_fields["dietary_requirements"]
