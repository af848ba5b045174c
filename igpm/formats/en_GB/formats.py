"""The portal's one way of showing dates to people: "1 September 2025" and
"1 September 2025, 14:30". Django's en_GB formats abbreviate months ("1 Sep
2025"), and a bare ``{{ date }}`` or ``|date`` would use them; this module
(``FORMAT_MODULE_PATH``) overrides them, so every unformatted date agrees.
Date inputs keep ISO input formats, which browsers send."""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "j F Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"
