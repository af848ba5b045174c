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

For automatic renewal it also keeps prices, customers, payment methods,
Bacs mandates, subscriptions and their invoices, portal configurations and
sessions, and answers Checkout in ``mode=subscription``. Tests move a
subscription along with ``subscription_checkout_complete``,
``invoice_cycle``, ``invoice_pay``, ``invoice_fail``, ``retries_end``,
``subscription_end`` and ``mandate_set``, then send the matching event
(``signed_event``) with the object from ``invoice_event_object`` /
``upcoming_event_object`` or the fake's own dicts.
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
        self.prices: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.payment_methods: dict[str, dict] = {}
        self.mandates: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.portal_configurations: dict[str, dict] = {}
        self.portal_sessions: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.delay = 0.0
        # Off, to show what the portal's own locking does without Stripe's.
        self.idempotency = True
        # While set, a refund asked for is made but the answer never reaches
        # the portal (the connection drops): every reply is a 500.
        self.refund_answers_lost = False
        # While above 0, a refund asked for is not made and answered with
        # a 500 (Stripe down); each such answer counts one off.
        self.refunds_down = 0
        # While set, reading refunds back (a charge's refunds) gets a 500.
        self.refund_reads_down = False
        # The idempotency key of every refund asked for, in order.
        self.refund_keys: list[str] = []
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
        if form.get("mode") == ["subscription"]:
            return self._create_subscription_session(form)
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
        if paid is None:
            paid = next(
                (
                    i["amount_paid"]
                    for i in self.invoices.values()
                    if i["status"] == "paid" and _invoice_intent(i) == intent
                ),
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
            "metadata": {
                key[9:-1]: value[0] for key, value in form.items() if key.startswith("metadata[")
            },
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    # --- Stripe Billing ------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):04d}"

    def _price_create(self, form: dict[str, list[str]]) -> dict:
        with self._lock:
            price = {
                "id": self._new_id("price"),
                "object": "price",
                "active": True,
                "currency": form["currency"][0],
                "unit_amount": int(form["unit_amount"][0]),
                "recurring": {"interval": form["recurring[interval]"][0]},
                "lookup_key": form.get("lookup_key", [None])[0],
                "product": self._new_id("prod"),
            }
            self.prices[price["id"]] = price
        return price

    def _create_subscription_session(self, form: dict[str, list[str]]) -> dict:
        with self._lock:
            session_id = f"cs_test_{next(self._ids):04d}"
            trial_end = form.get("subscription_data[trial_end]", [None])[0]
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": "subscription",
                "url": f"{self.url}/pay/{session_id}",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": self.prices[form["line_items[0][price]"][0]]["unit_amount"],
                "currency": "gbp",
                "client_reference_id": form["client_reference_id"][0],
                "customer": form.get("customer", [None])[0],
                "customer_email": form.get("customer_email", [""])[0],
                "payment_intent": None,
                "subscription": None,
                "created": int(time.time()),
                "metadata": {"auto_renewal_id": form["metadata[auto_renewal_id]"][0]},
                # What the portal asked for, for tests to check.
                "payment_method_types": [
                    v
                    for k, vs in sorted(form.items())
                    if k.startswith("payment_method_types")
                    for v in vs
                ],
                "price": form["line_items[0][price]"][0],
                "trial_end": int(trial_end) if trial_end else None,
                "subscription_metadata": {
                    "auto_renewal_id": form["subscription_data[metadata][auto_renewal_id]"][0]
                },
            }
            self.sessions[session_id] = session
        return session

    def subscription_checkout_complete(self, session_id: str, *, fail_first: bool = False) -> dict:
        """The member finishes a subscription Checkout: a customer, a card
        or a Bacs mandate (pending), and the subscription; trialing until
        ``trial_end``, or with its first invoice paid now."""
        session = self.sessions[session_id]
        method = session["payment_method_types"][0]
        with self._lock:
            customer = session["customer"] or self._new_id("cus")
            self.customers.setdefault(customer, {"id": customer, "object": "customer"})
            pm = {"id": self._new_id("pm"), "object": "payment_method", "type": method}
            if method == "card":
                pm["card"] = {"brand": "visa", "last4": "4242", "exp_month": 8, "exp_year": 2031}
            else:
                pm["bacs_debit"] = {"last4": "2345", "sort_code": "108800"}
                mandate = {
                    "id": self._new_id("mandate"),
                    "object": "mandate",
                    "status": "pending",
                    "type": "multi_use",
                    "payment_method": pm["id"],
                    "payment_method_details": {
                        "type": "bacs_debit",
                        "bacs_debit": {
                            "reference": f"IGPM-{next(self._ids):06d}",
                            "network_status": "pending",
                        },
                    },
                }
                self.mandates[mandate["id"]] = mandate
            self.payment_methods[pm["id"]] = pm
            now = int(time.time())
            trial_end = session["trial_end"]
            sub_id = self._new_id("sub")
            period_end = trial_end or now + 365 * 86400
            self.subscriptions[sub_id] = {
                "id": sub_id,
                "object": "subscription",
                "status": "trialing" if trial_end else "active",
                "customer": customer,
                "cancel_at_period_end": False,
                "cancel_at": None,
                "canceled_at": None,
                "cancellation_details": {"reason": None},
                "trial_end": trial_end,
                "default_payment_method": pm["id"],
                "metadata": session["subscription_metadata"],
                "items": {
                    "object": "list",
                    "data": [
                        {
                            "id": self._new_id("si"),
                            "object": "subscription_item",
                            "price": self.prices[session["price"]],
                            "current_period_start": now,
                            "current_period_end": period_end,
                        }
                    ],
                },
            }
        session.update(status="complete", customer=customer, subscription=sub_id)
        if trial_end:
            session["payment_status"] = "no_payment_required"
            return self.subscriptions[sub_id]
        invoice = self.invoice_cycle(sub_id, reason="subscription_create", advance=False)
        if not fail_first:
            self.invoice_pay(invoice["id"])
            session["payment_status"] = "paid"
        return self.subscriptions[sub_id]

    def invoice_cycle(
        self, subscription_id: str, *, reason: str = "subscription_cycle", advance: bool = True
    ) -> dict:
        """Stripe makes the subscription's next invoice (open, not yet
        collected); ``advance`` moves the subscription into the new year."""
        sub = self.subscriptions[subscription_id]
        item = sub["items"]["data"][0]
        with self._lock:
            invoice = {
                "id": self._new_id("in"),
                "object": "invoice",
                "status": "open",
                "customer": sub["customer"],
                "currency": "gbp",
                "amount_due": item["price"]["unit_amount"],
                "amount_paid": 0,
                "billing_reason": reason,
                "attempt_count": 0,
                "next_payment_attempt": int(time.time()) + 3600,
                "created": int(time.time()),
                "last_finalization_error": None,
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {"subscription": subscription_id},
                },
                "payments": {"object": "list", "data": []},
                "intent": f"pi_test_{next(self._ids):04d}",
            }
            self.invoices[invoice["id"]] = invoice
        if advance:
            if sub["status"] == "trialing":
                sub["status"] = "active"
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] += 365 * 86400
        return invoice

    def invoice_pay(self, invoice_id: str) -> dict:
        invoice = self.invoices[invoice_id]
        invoice.update(status="paid", amount_paid=invoice["amount_due"], next_payment_attempt=None)
        invoice["payments"]["data"] = [
            {
                "id": f"inpay_{invoice_id}",
                "object": "invoice_payment",
                "status": "paid",
                "payment": {"type": "payment_intent", "payment_intent": invoice["intent"]},
            }
        ]
        sub = self.subscriptions[invoice["parent"]["subscription_details"]["subscription"]]
        if sub["status"] == "past_due":
            sub["status"] = "active"
        return invoice

    def invoice_fail(self, invoice_id: str, *, final: bool = False) -> dict:
        """One collection attempt fails; ``final``: Stripe will not retry."""
        invoice = self.invoices[invoice_id]
        invoice["attempt_count"] += 1
        invoice["next_payment_attempt"] = None if final else int(time.time()) + 3 * 86400
        invoice["last_finalization_error"] = {"message": "Your card was declined."}
        sub = self.subscriptions[invoice["parent"]["subscription_details"]["subscription"]]
        if sub["status"] in ("active", "trialing"):
            sub["status"] = "past_due"
        return invoice

    def retries_end(self, invoice_id: str) -> dict:
        """The last retry fails and Stripe cancels the subscription."""
        invoice = self.invoice_fail(invoice_id, final=True)
        while invoice["attempt_count"] < 4:
            invoice["attempt_count"] += 1
        sub_id = invoice["parent"]["subscription_details"]["subscription"]
        return self.subscription_end(sub_id, reason="payment_failed")

    def subscription_end(self, subscription_id: str, *, reason: str) -> dict:
        sub = self.subscriptions[subscription_id]
        sub.update(status="canceled", canceled_at=int(time.time()))
        sub["cancellation_details"] = {"reason": reason}
        return sub

    def mandate_set(self, mandate_id: str, status: str) -> dict:
        self.mandates[mandate_id]["status"] = status
        return self.mandates[mandate_id]

    def mandate_of(self, subscription_id: str) -> dict:
        pm = self.subscriptions[subscription_id]["default_payment_method"]
        return next(m for m in self.mandates.values() if m["payment_method"] == pm)

    def _subscription_view(self, sub: dict, query: dict) -> dict:
        view = json.loads(json.dumps(sub))
        expand = [v for k, vs in query.items() if k.startswith("expand") for v in vs]
        if "default_payment_method" in expand and view["default_payment_method"]:
            view["default_payment_method"] = self.payment_methods[view["default_payment_method"]]
        return view

    def _subscription_update(self, sub_id: str, form: dict[str, list[str]]) -> tuple[int, dict]:
        sub = self.subscriptions.get(sub_id)
        if sub is None:
            return 404, {"error": {"type": "invalid_request_error", "message": "No such sub"}}
        if sub["status"] == "canceled":
            return 400, {
                "error": {"type": "invalid_request_error", "message": "Subscription canceled."}
            }
        if "trial_end" in form:
            sub.update(status="trialing", trial_end=int(form["trial_end"][0]))
            sub["items"]["data"][0]["current_period_end"] = sub["trial_end"]
            sub["proration_behavior"] = form.get("proration_behavior", [""])[0]
        if "cancel_at_period_end" in form:
            sub["cancel_at_period_end"] = form["cancel_at_period_end"][0] == "true"
        if "items[0][price]" in form:
            sub["items"]["data"][0]["price"] = self.prices[form["items[0][price]"][0]]
            sub["proration_behavior"] = form.get("proration_behavior", [""])[0]
        return 200, self._subscription_view(sub, form)

    def _subscription_cancel(self, sub_id: str) -> tuple[int, dict]:
        sub = self.subscriptions.get(sub_id)
        if sub is None or sub["status"] == "canceled":
            return 400, {"error": {"type": "invalid_request_error", "message": "Not active."}}
        return 200, self.subscription_end(sub_id, reason="cancellation_requested")

    def _portal_configuration_create(self, form: dict[str, list[str]]) -> dict:
        config = {
            "id": self._new_id("bpc"),
            "object": "billing_portal.configuration",
            "active": True,
            "metadata": {"igpm": form["metadata[igpm]"][0]},
            "features": {k: v[0] for k, v in form.items() if k.startswith("features")},
        }
        self.portal_configurations[config["id"]] = config
        return config

    def _portal_session_create(self, form: dict[str, list[str]]) -> tuple[int, dict]:
        if form["configuration"][0] not in self.portal_configurations:
            return 400, {"error": {"type": "invalid_request_error", "message": "No config"}}
        session = {
            "id": self._new_id("bps"),
            "object": "billing_portal.session",
            "customer": form["customer"][0],
            "configuration": form["configuration"][0],
            "return_url": form["return_url"][0],
            "url": f"{self.url}/portal/{next(self._ids)}",
        }
        self.portal_sessions.append(session)
        return 200, session

    def _invoice_view(self, invoice: dict) -> dict:
        view = {k: v for k, v in invoice.items() if k != "intent"}
        return json.loads(json.dumps(view))

    def _billing_get(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict] | None:
        def listing(data):
            return 200, {"object": "list", "url": path, "data": data, "has_more": False}

        if path == "/v1/prices":
            keys = [v for k, vs in query.items() if k.startswith("lookup_keys") for v in vs]
            return listing([p for p in self.prices.values() if p["lookup_key"] in keys])
        if path.startswith("/v1/subscriptions/"):
            sub = self.subscriptions.get(path.split("/")[3])
            if sub is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "No such sub"}}
            return 200, self._subscription_view(sub, query)
        if path == "/v1/invoices":
            gte = int(query.get("created[gte]", ["0"])[0])
            limit = int(query.get("limit", ["10"])[0])
            found = [
                self._invoice_view(i)
                for i in reversed(list(self.invoices.values()))
                if i["created"] >= gte and i["status"] == query.get("status", ["paid"])[0]
            ]
            if after := query.get("starting_after", [""])[0]:
                ids = [i["id"] for i in found]
                found = found[ids.index(after) + 1 :]
            return 200, {
                "object": "list",
                "url": path,
                "data": found[:limit],
                "has_more": len(found) > limit,
            }
        if path.startswith("/v1/invoices/"):
            invoice = self.invoices.get(path.split("/")[3])
            if invoice is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "No such in"}}
            return 200, self._invoice_view(invoice)
        if path.startswith("/v1/mandates/"):
            mandate = self.mandates.get(path.split("/")[3])
            if mandate is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "No mandate"}}
            return 200, mandate
        if path == "/v1/billing_portal/configurations":
            return listing(list(self.portal_configurations.values()))
        return None

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
                if self.path == "/v1/refunds":
                    fake.refund_keys.append(self.headers.get("Idempotency-Key", ""))
                if self.path == "/v1/refunds" and fake.refunds_down > 0:
                    fake.refunds_down -= 1
                    return self._reply(500, {"error": {"type": "api_error", "message": "Down"}})
                if self.path == "/v1/refunds" and fake.refund_answers_lost:
                    if not (key and key in fake._idempotent):
                        answer = fake._refund(form)
                        if key and answer[0] == 200:
                            fake._idempotent[key] = answer
                    return self._reply(500, {"error": {"type": "api_error", "message": "Lost"}})
                if key and key in fake._idempotent:
                    return self._reply(*fake._idempotent[key])
                path = self.path
                if path == "/v1/checkout/sessions":
                    answer = (200, fake._create_session(form))
                elif path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
                    answer = fake._expire(path.split("/")[4])
                elif path == "/v1/refunds":
                    answer = fake._refund(form)
                elif path == "/v1/prices":
                    answer = (200, fake._price_create(form))
                elif path.startswith("/v1/subscriptions/"):
                    answer = fake._subscription_update(path.split("/")[3], form)
                elif path == "/v1/billing_portal/configurations":
                    answer = (200, fake._portal_configuration_create(form))
                elif path == "/v1/billing_portal/sessions":
                    answer = fake._portal_session_create(form)
                else:
                    answer = (404, {"error": {"message": "unknown path"}})
                if key and answer[0] == 200:
                    fake._idempotent[key] = answer
                return self._reply(*answer)

            def do_DELETE(self):
                fake.requests.append(("DELETE", self.path))
                if fake.delay:
                    time.sleep(fake.delay)
                path = urlsplit(self.path).path
                if path.startswith("/v1/subscriptions/"):
                    return self._reply(*fake._subscription_cancel(path.split("/")[3]))
                return self._reply(404, {"error": {"message": "unknown path"}})

            def do_GET(self):
                fake.requests.append(("GET", self.path))
                if fake.delay:
                    time.sleep(fake.delay)
                url = urlsplit(self.path)
                if url.path == "/v1/refunds" and fake.refund_reads_down:
                    return self._reply(500, {"error": {"type": "api_error", "message": "Down"}})
                found = fake._billing_get(url.path, parse_qs(url.query))
                if found is not None:
                    return self._reply(*found)
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


def _invoice_intent(invoice: dict) -> str | None:
    for made in invoice["payments"]["data"]:
        return made["payment"]["payment_intent"]
    return None


def invoice_event_object(fake: StripeFake, invoice_id: str) -> dict:
    """An invoice as an ``invoice.*`` event carries it (the portal reads it
    again; only its id matters)."""
    return fake._invoice_view(fake.invoices[invoice_id])


def upcoming_event_object(fake: StripeFake, subscription_id: str) -> dict:
    """``invoice.upcoming``'s object: the next invoice, which has no id yet."""
    sub = fake.subscriptions[subscription_id]
    return {
        "object": "invoice",
        "amount_due": sub["items"]["data"][0]["price"]["unit_amount"],
        "currency": "gbp",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription_id},
        },
    }
