from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from igpm.middleware import session_start_idle_clock

        user_logged_in.connect(session_start_idle_clock, dispatch_uid="igpm-idle-clock")

        # The extension points members owns (privacy holdings, staff
        # report sections, member panels, demo data, the audit trail's
        # names, facts read with the signed-in person) are filled once
        # every app's models are loaded: members' own parts first, the
        # lowest layer, then each app's module of the same name in
        # INSTALLED_APPS order (accreditation, then events), as the admin
        # finds each admin.py.
        from .privacy import holdings  # noqa: F401
        from .reports import sections  # noqa: F401

        # Consultations, a room of members, after the account's holdings.
        self.consultations_load()
        # Members by ICB and PCN from the NHS data, after members' own
        # figures; organisation accounts and seats.
        self.organisations_load()
        self.register_import_load()

        autodiscover_modules("privacy", "reports", "panels", "demo", "audit_names", "signed_in")

    @staticmethod
    def register_import_load() -> None:
        from .register_import import audit_names, panels, privacy, tasks  # noqa: F401

    @staticmethod
    def consultations_load() -> None:
        from .consultations import admin, demo, panels, privacy, tasks  # noqa: F401

    @staticmethod
    def organisations_load() -> None:
        # The NHS reference data (ods_*) and organisation accounts and seats;
        # ods_reports before reports, so its section comes first.
        from .organisations import (  # noqa: F401
            admin,
            audit_names,
            demo,
            ods_privacy,
            ods_reports,
            panels,
            privacy,
            reports,
            tasks,
        )
