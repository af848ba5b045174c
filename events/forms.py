from django import forms


class RegistrationForm(forms.Form):
    """Who is coming. A signed-in member's details are filled in from their
    profile; a visitor types them."""

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
