"""The NHS organisation data holds nothing about a member: the privacy
registry is told so (``members/privacy/registry.py``)."""

from members.privacy.registry import NOT_PERSONAL

NOT_PERSONAL["members.OdsImport"] = (
    "runs of the ODS import: counts and codes of NHS organisations, and the "
    "staff address that started each run"
)
