from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from igpm.middleware import session_start_idle_clock

        user_logged_in.connect(session_start_idle_clock, dispatch_uid="igpm-idle-clock")
