"""Importing the register a body already has: its members, with their
numbers, grades and paid-up dates, from a CSV or Excel file.

The membership team uploads a file (``forms.py`` checks its type, size and
header row). A dry run (``services.register_import_check``, a Celery task)
reads every row and says what it would create or update and what is wrong,
writing nothing but the report. The import itself
(``register_import_apply``, a Celery task) writes the chosen rows a batch
at a time, checking each again against the database as it goes. The same
file imported twice changes nothing; a corrected file changes only what
changed.

An imported member has no password: ``invitations.py`` sends each one, in
batches, an email with a single-use link to claim the account (set a
password; the address is then verified). Until then they renew by invoice
like anyone, the invoice going to the imported address.

The year already paid for is recorded as a ``Payment`` of 0p with the
method ``imported``, paid, buying one ``MembershipPeriod`` that ends on the
paid-up-until date: a year is still bought by exactly one payment, and the
money figures are unchanged.
"""
