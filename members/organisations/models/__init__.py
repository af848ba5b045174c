"""Organisations' models. They belong to the ``members`` app and are
re-exported by ``members.models``."""

from .reference import NHSOrganisation, OdsImport

__all__ = ["NHSOrganisation", "OdsImport"]
