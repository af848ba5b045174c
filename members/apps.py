from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        # Every app's models are loaded by now, so the apps above members
        # can register their parts: members' own first, then each app in
        # INSTALLED_APPS order (accreditation, events).
        from .privacy import registry

        registry.discover()
