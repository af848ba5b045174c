"""``bin/run`` (``manage.py rundemo``) says what it is doing, and gives the
address only once the web server answers."""

import http.server
import subprocess
import sys
import threading

import pytest
from django.core.management import call_command

from members.management.commands import rundemo
from members.management.commands.rundemo import server_answers


class _Unwell(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_server_that_answers_is_found_even_with_an_error_status():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Unwell)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert server_answers(f"http://127.0.0.1:{server.server_port}/healthz/", timeout=5)
    finally:
        server.shutdown()


def test_nothing_listening_is_not_an_answer():
    assert not server_answers("http://127.0.0.1:9/", timeout=0.5)


def test_a_web_process_that_stopped_ends_the_wait_at_once():
    stopped = subprocess.Popen([sys.executable, "-c", "pass"])
    stopped.wait()
    assert not server_answers("http://127.0.0.1:9/", web=stopped, timeout=30)


class _Finished:
    """A process that has already stopped, so the command's loop ends."""

    returncode = 0

    def __init__(self, *args, **kwargs):
        pass

    def poll(self):
        return 0

    def terminate(self):
        pass

    def wait(self, timeout=None):
        return 0


@pytest.mark.parametrize("answers", [True, False])
def test_the_address_is_given_only_once_the_server_answers(settings, monkeypatch, capsys, answers):
    settings.DEBUG = True
    said = []
    monkeypatch.setattr(rundemo, "call_command", lambda *a, **k: said.append(a[0]))
    monkeypatch.setattr(rundemo.subprocess, "Popen", _Finished)
    monkeypatch.setattr(rundemo, "server_answers", lambda url, **k: answers)
    with pytest.raises(SystemExit):
        call_command("rundemo", addr="127.0.0.1:8123")
    out = capsys.readouterr()
    steps = [line for line in out.out.splitlines() if line.startswith("==> ")]
    assert steps == [
        "==> Setting up the database (migrations)",
        "==> Loading the demo data",
        "==> Starting the web server, the Celery worker and Celery beat",
        "==> Waiting for the web server to answer at http://127.0.0.1:8123/",
    ]
    running = "The IGPM portal is running at http://127.0.0.1:8123/"
    if answers:
        assert running in out.out
    else:
        assert running not in out.out
        assert "did not answer" in out.err


def test_bin_run_prints_a_line_for_each_install_step():
    from django.conf import settings

    script = (settings.BASE_DIR / "bin" / "run").read_text()
    for step in (
        'step "Checking for Pango (PDFs)"',
        'step "Updating pip"',
        "step \"Installing the portal's packages",
        'step "Starting the portal (manage.py rundemo)"',
    ):
        assert step in script
    # pip's own output stays quiet: the steps are the progress.
    assert script.index('step "Updating pip"') < script.index("pip install --quiet --upgrade")
