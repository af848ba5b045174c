"""Run the whole portal locally: web server, Celery worker and Celery beat.

Migrates, loads the demo data, then starts the three processes and keeps
them together: Ctrl+C, or any one of them stopping, stops all three. It
says what it is doing as it goes, and gives the address only once the web
server answers it.
"""

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from members.demo import MEMBER_PASSWORD, MEMBERS, STAFF_EMAIL, STAFF_PASSWORD

STARTUP_SECONDS = 60


def server_answers(
    url: str, *, web: subprocess.Popen | None = None, timeout: float = STARTUP_SECONDS
) -> bool:
    """Poll ``url`` until it answers (any HTTP status), the web process
    stops, or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if web is not None and web.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own server)
                return True
        except urllib.error.HTTPError:
            return True  # it answered, if not with 200
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    return False


class Command(BaseCommand):
    help = "Set up and run the portal locally with demo data."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr, **options):
        if not settings.DEBUG:
            raise CommandError("rundemo is for local portals only (DEBUG is off).")
        self._step("Setting up the database (migrations)")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        self._step("Loading the demo data")
        call_command("seed_demo")
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "igpm",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
            ],
            "beat": [python, "-m", "celery", "-A", "igpm", "beat", "-l", "info"],
        }
        self._step("Starting the web server, the Celery worker and Celery beat")
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
        self._step(f"Waiting for the web server to answer at http://{addr}/")
        if server_answers(f"http://{addr}/healthz/", web=processes["web"]):
            self._announce(addr)
        else:
            self.stderr.write(
                f"The web server did not answer at http://{addr}/ within "
                f"{STARTUP_SECONDS} seconds; its messages are above."
            )

        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"The {name} process stopped; stopping the rest.")
                    exit_code = process.returncode or 1
                    stopping = True
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(exit_code)

    def _step(self, text: str) -> None:
        self.stdout.write(f"==> {text}")
        self.stdout.flush()

    def _announce(self, addr: str) -> None:
        mail_dir = settings.EMAIL_FILE_PATH
        lines = [
            "",
            f"The IGPM portal is running at http://{addr}/",
            "",
            f"Staff:   {STAFF_EMAIL} / {STAFF_PASSWORD}",
            "         two-factor code: run  .venv/bin/python manage.py totp_code",
            "         (or add secret JBSWY3DPEHPK3PXPIGPMDEMO to an authenticator app)",
            f"Members: {', '.join(m['email'] for m in MEMBERS)} / {MEMBER_PASSWORD}",
            f"Emails are written as files to {mail_dir}",
            "Press Ctrl+C to stop the web server, worker and scheduler.",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
