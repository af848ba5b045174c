from allauth.account.forms import SetPasswordForm
from django import forms
from django.core.validators import MaxLengthValidator

from . import parsing


class RegisterUploadForm(forms.Form):
    file = forms.FileField(
        label="Register file",
        help_text="A .csv (UTF-8) or .xlsx file, first row the column headings: Name (or "
        "First name and Last name), Email, Membership number, Grade, First joined, Paid up "
        "until, and optionally Organisation ODS code, Phone, Marketing consent, "
        "Consultations consent.",
        widget=forms.FileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
        error_messages={
            "required": "Choose the register file to upload.",
            "empty": "The file chosen is empty. Choose the file again.",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > parsing.max_bytes():
            raise forms.ValidationError(
                f"The file is larger than {parsing.max_bytes() // (1024 * 1024)} MB: split it "
                "into smaller files."
            )
        content = upload.read()
        try:
            parsing.header_read(name=upload.name, content=content)
        except parsing.FileProblem as problem:
            raise forms.ValidationError(str(problem)) from None
        self.content = content
        return upload


class ImportChoiceForm(forms.Form):
    leave_out = forms.CharField(
        label="Rows to leave out (optional)",
        required=False,
        max_length=2000,
        help_text="Row numbers as in the file, separated by commas, with ranges: 4, 7-9.",
    )
    errors_left_out = forms.BooleanField(
        label="Import the rows without errors and leave out the rows with errors",
        required=False,
    )


PASSWORD_MAX = 256


class ClaimPasswordForm(SetPasswordForm):
    """allauth's own set-password form: its password rules and messages,
    and a length limit (the page is public; hashing a huge password is
    work for nothing)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("password1", "password2"):
            field = self.fields[name]
            field.max_length = PASSWORD_MAX
            field.widget.attrs["maxlength"] = str(PASSWORD_MAX)
            field.validators.append(
                MaxLengthValidator(
                    PASSWORD_MAX,
                    f"Choose a password of at most {PASSWORD_MAX} characters.",
                )
            )


class RenewalInvoiceForm(forms.Form):
    """Staff invoice a member who has not claimed their account (the same
    details a member gives on the pay page)."""

    organisation = forms.CharField(
        label="Organisation paying the invoice",
        max_length=200,
        help_text="Usually the member's practice.",
        error_messages={"required": "Enter the name of the organisation paying the invoice."},
    )
    address = forms.CharField(
        label="Billing address (optional)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    purchase_order = forms.CharField(
        label="Purchase order number (optional)", max_length=60, required=False
    )
    accounts_email = forms.EmailField(
        label="Accounts email (optional)",
        max_length=254,
        required=False,
        help_text="The invoice is emailed to the member and to this address.",
        error_messages={"invalid": "Enter an email address like accounts@example.org."},
    )
