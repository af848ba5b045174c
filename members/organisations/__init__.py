"""Organisations: NHS organisations as reference data (practices, PCNs,
Sub ICB Locations and ICBs, loaded from the ODS files) and the
organisation accounts that buy memberships for their managers."""
