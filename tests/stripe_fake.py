"""A local stand-in for the parts of Stripe's API the portal calls.

It listens on 127.0.0.1 only; tests point ``STRIPE_API_BASE`` at it. It
keeps Checkout Sessions in memory so a test can decide what Stripe "knows"
(paid or not) when the portal re-reads a session, and signs webhook events
exactly as Stripe does (``t=<time>,v1=<HMAC-SHA256 of "t.body">``).
"""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs


class StripeFake:
    def __init__(self) -> None:
        self.sessions: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self._ids = count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "StripeFake":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def set_session(self, session_id: str, **fields) -> dict:
        self.sessions[session_id].update(fields)
        return self.sessions[session_id]

    def _create_session(self, form: dict[str, list[str]]) -> dict:
        session_id = f"cs_test_{next(self._ids):04d}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"{self.url}/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(form["line_items[0][price_data][unit_amount]"][0]),
            "currency": form["line_items[0][price_data][currency]"][0],
            "client_reference_id": form["client_reference_id"][0],
            "customer_email": form["customer_email"][0],
            "payment_intent": None,
            "metadata": {"payment_id": form["metadata[payment_id]"][0]},
        }
        self.sessions[session_id] = session
        return session

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                fake.requests.append(("POST", self.path))
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                if self.path == "/v1/checkout/sessions":
                    return self._reply(200, fake._create_session(form))
                return self._reply(404, {"error": {"message": "unknown path"}})

            def do_GET(self):
                fake.requests.append(("GET", self.path))
                prefix = "/v1/checkout/sessions/"
                session = fake.sessions.get(self.path.removeprefix(prefix).split("?")[0])
                if self.path.startswith(prefix) and session:
                    return self._reply(200, session)
                return self._reply(404, {"error": {"message": "No such checkout session"}})

            def log_message(self, *args):
                pass

        return Handler


def signed_event(
    *, event_id: str, event_type: str, session: dict, secret: str, timestamp: int | None = None
) -> tuple[bytes, str]:
    """A webhook body and its ``Stripe-Signature`` header."""
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "api_version": "2025-01-27",
            "created": int(time.time()),
            "data": {"object": session},
        }
    ).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={digest}"
