"""The web server as deployed: gunicorn with gunicorn.conf.py, over real
HTTP on 127.0.0.1."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "igpm.settings.test",
        "WEB_CONCURRENCY": "1",
        "TMPDIR": str(tmp_path_factory.mktemp("gunicorn-tmp")),
    }
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gunicorn did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    yield port
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_responses_do_not_name_the_server(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=20)
    connection.request("GET", "/privacy/")
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    assert response.getheader("Server") is None
    assert response.getheader("Cross-Origin-Resource-Policy") == "same-origin"
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")


def test_a_100_mb_upload_is_answered_413_before_it_is_sent(server):
    """Only the headers and a first kilobyte are sent: the 413 arrives
    anyway, so the server never waited for (or stored) the rest."""
    head = (
        "POST /accreditation/cpd/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n"
        "\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server), timeout=20) as connection:
        connection.sendall(head + b"--x\r\n" + b"0" * 1000)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"\r\nServer:" not in answer


def test_the_image_and_compose_file_use_the_config():
    assert '"--config", "gunicorn.conf.py"' in (ROOT / "Dockerfile").read_text()
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "FORWARDED_ALLOW_IPS" in compose
