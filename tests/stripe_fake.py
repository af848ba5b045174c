"""A local stand-in for the parts of Stripe's API the portal calls.

It listens on 127.0.0.1 only; tests point ``STRIPE_API_BASE`` at it. It
keeps Checkout Sessions in memory so a test can decide what Stripe "knows"
(paid or not) when the portal re-reads a session, and signs webhook events
exactly as Stripe does (``t=<time>,v1=<HMAC-SHA256 of "t.body">``).

Besides creating and reading sessions it expires them, lists them a page
at a time (``created[gte]``, ``limit``, ``starting_after``, newest first),
reads payment intents and makes refunds (honouring idempotency keys, as
Stripe does). ``delay`` makes every answer that many seconds late, to play
a slow Stripe.
"""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs, urlsplit


class StripeFake:
    def __init__(self) -> None:
        self.sessions: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.delay = 0.0
        # Off, to show what the portal's own locking does without Stripe's.
        self.idempotency = True
        self._idempotent: dict[str, dict] = {}
        self._lock = threading.Lock()
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

    def add_session(
        self, *, payment_id: int, amount: int, currency: str = "gbp", **fields
    ) -> dict:
        """A session Stripe knows about, as if the portal had created it."""
        with self._lock:
            session_id = f"cs_test_{next(self._ids):04d}"
            session = {
                "id": session_id,
                "object": "checkout.session",
                "url": f"{self.url}/pay/{session_id}",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": amount,
                "currency": currency,
                "client_reference_id": str(payment_id),
                "customer_email": "",
                "payment_intent": None,
                "created": int(time.time()),
                "metadata": {"payment_id": str(payment_id)},
                **fields,
            }
            self.sessions[session_id] = session
        return session

    def pay(self, session_id: str, **fields) -> dict:
        """The member pays the session: it completes, with a payment intent."""
        number = session_id.removeprefix("cs_test_")
        return self.set_session(
            session_id,
            status="complete",
            payment_status="paid",
            payment_intent=f"pi_test_{number}",
            **fields,
        )

    def _create_session(self, form: dict[str, list[str]]) -> dict:
        session = self.add_session(
            payment_id=int(form["client_reference_id"][0]),
            amount=int(form["line_items[0][price_data][unit_amount]"][0]),
            currency=form["line_items[0][price_data][currency]"][0],
        )
        session["customer_email"] = form["customer_email"][0]
        return session

    def _expire(self, session_id: str) -> tuple[int, dict]:
        session = self.sessions.get(session_id)
        if session is None:
            return 404, {"error": {"type": "invalid_request_error", "message": "No such session"}}
        if session["status"] != "open":
            return 400, {
                "error": {
                    "type": "invalid_request_error",
                    "message": f"Only open sessions can be expired, not {session['status']}.",
                }
            }
        session["status"] = "expired"
        return 200, session

    def _list(self, query: dict[str, list[str]]) -> dict:
        gte = int(query.get("created[gte]", ["0"])[0])
        limit = int(query.get("limit", ["10"])[0])
        newest_first = [s for s in reversed(list(self.sessions.values())) if s["created"] >= gte]
        if after := query.get("starting_after", [""])[0]:
            ids = [s["id"] for s in newest_first]
            newest_first = newest_first[ids.index(after) + 1 :]
        return {
            "object": "list",
            "url": "/v1/checkout/sessions",
            "data": newest_first[:limit],
            "has_more": len(newest_first) > limit,
        }

    def _refund(self, form: dict[str, list[str]]) -> tuple[int, dict]:
        intent = form["payment_intent"][0]
        charge = f"ch_{intent.removeprefix('pi_')}"
        amount = int(form["amount"][0])
        taken = sum(r["amount"] for r in self.refunds.values() if r["charge"] == charge)
        paid = next(
            (s["amount_total"] for s in self.sessions.values() if s["payment_intent"] == intent),
            None,
        )
        if paid is None or taken + amount > paid:
            return 400, {"error": {"type": "invalid_request_error", "message": "Cannot refund"}}
        refund = {
            "id": f"re_test_{next(self._ids):04d}",
            "object": "refund",
            "amount": amount,
            "charge": charge,
            "payment_intent": intent,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

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
                if fake.delay:
                    time.sleep(fake.delay)
                key = fake.idempotency and self.headers.get("Idempotency-Key")
                if key and key in fake._idempotent:
                    return self._reply(*fake._idempotent[key])
                path = self.path
                if path == "/v1/checkout/sessions":
                    answer = (200, fake._create_session(form))
                elif path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
                    answer = fake._expire(path.split("/")[4])
                elif path == "/v1/refunds":
                    answer = fake._refund(form)
                else:
                    answer = (404, {"error": {"message": "unknown path"}})
                if key and answer[0] == 200:
                    fake._idempotent[key] = answer
                return self._reply(*answer)

            def do_GET(self):
                fake.requests.append(("GET", self.path))
                if fake.delay:
                    time.sleep(fake.delay)
                url = urlsplit(self.path)
                if url.path == "/v1/checkout/sessions":
                    return self._reply(200, fake._list(parse_qs(url.query)))
                if url.path == "/v1/refunds":
                    charge = parse_qs(url.query).get("charge", [""])[0]
                    data = [r for r in fake.refunds.values() if r["charge"] == charge]
                    return self._reply(
                        200, {"object": "list", "url": url.path, "data": data, "has_more": False}
                    )
                prefix = "/v1/checkout/sessions/"
                session = fake.sessions.get(url.path.removeprefix(prefix))
                if url.path.startswith(prefix) and session:
                    return self._reply(200, session)
                intent_prefix = "/v1/payment_intents/"
                if url.path.startswith(intent_prefix):
                    intent = url.path.removeprefix(intent_prefix)
                    charge = f"ch_{intent.removeprefix('pi_')}"
                    return self._reply(
                        200, {"id": intent, "object": "payment_intent", "latest_charge": charge}
                    )
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
    return signed_body(body, secret=secret, timestamp=timestamp)


def charge_object(session: dict, *, refunds: list[dict] = (), **fields) -> dict:
    """The charge behind a paid session, as ``charge.*`` events carry it."""
    intent = session["payment_intent"]
    return {
        "id": f"ch_{intent.removeprefix('pi_')}",
        "object": "charge",
        "payment_intent": intent,
        "amount": session["amount_total"],
        "amount_refunded": sum(r["amount"] for r in refunds),
        "refunds": {"object": "list", "data": list(refunds)},
        **fields,
    }


def dispute_object(session: dict, **fields) -> dict:
    intent = session["payment_intent"]
    return {
        "id": f"dp_{intent.removeprefix('pi_')}",
        "object": "dispute",
        "charge": f"ch_{intent.removeprefix('pi_')}",
        "payment_intent": intent,
        "amount": session["amount_total"],
        "reason": "fraudulent",
        "status": "needs_response",
        **fields,
    }


def signed_body(body: bytes, *, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
    """Sign any body, readable or not, as Stripe signs webhook events."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={digest}"
