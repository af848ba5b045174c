import logging

import stripe
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from members.billing import stripe_gateway
from members.billing.services.stripe_webhooks import stripe_event_receive

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events. 400 for anything not signed by Stripe with our
    secret in the last five minutes; 200 once an event is handled or known;
    an error (so Stripe retries) only if handling it failed."""
    try:
        event = stripe_gateway.event_construct(
            request.body, request.headers.get("Stripe-Signature", "")
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        logger.warning("Stripe webhook refused: %s", exc)
        return HttpResponseBadRequest("Invalid signature or payload.")
    outcome = stripe_event_receive(event=event)
    logger.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return HttpResponse(outcome, content_type="text/plain")
