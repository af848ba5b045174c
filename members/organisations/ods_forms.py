"""The form staff upload the ODS files with (the practice search reads its
query through ``igpm.search``)."""

import itertools

from django import forms
from django.utils import timezone

from .ods_import import ImportReport, OdsFileError, pcns_read, practices_read, text_lines

ODS_FILE_MAX_BYTES = 10 * 1024 * 1024  # epraccur.csv is about 3 MB
CHECK_LINES = 50


def _checked(upload, read, label: str):
    """Refuse a file too big, not text, or not the ODS file it should be,
    reading only its first lines; leave it ready to be stored."""
    if upload.size > ODS_FILE_MAX_BYTES:
        raise forms.ValidationError(
            f"The {label} is over {ODS_FILE_MAX_BYTES // (1024 * 1024)} MB: "
            "check it is the CSV file from the ODS download.",
            code="too_big",
        )
    upload.seek(0)
    head = b"".join(itertools.islice(upload, CHECK_LINES))
    upload.seek(0)
    try:
        read(list(text_lines(head))[: CHECK_LINES - 1], ImportReport())
    except OdsFileError as error:
        raise forms.ValidationError(str(error), code="not_ods") from error
    return upload


class OdsImportForm(forms.Form):
    practices_file = forms.FileField(
        label="GP practices: epraccur.csv",
        help_text="From the ODS 'GP and GP practice related data' downloads "
        "(epraccur.zip holds it). CSV, up to 10 MB.",
        error_messages={"required": "Choose the epraccur.csv file."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    pcn_file = forms.FileField(
        label="Practices in PCNs: the PCN core-partner file (optional)",
        help_text="The 'PCN Core Partner Details' sheet of the ePCN workbook, saved "
        "as CSV. Without it, practices keep the PCNs they have.",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_practices_file(self):
        return _checked(self.cleaned_data["practices_file"], practices_read, "practices file")

    def clean_pcn_file(self):
        upload = self.cleaned_data.get("pcn_file")
        if not upload:
            return None
        today = timezone.localdate()
        return _checked(upload, lambda lines, report: pcns_read(lines, report, today), "PCN file")
