"""gunicorn settings for the portal's web server (Dockerfile, docker-compose).

Every value can be changed from the environment; the defaults suit one
container behind a reverse proxy on the same host.
"""

import multiprocessing
import os

from gunicorn.http import wsgi as _gunicorn_wsgi

wsgi_app = "igpm.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Sync workers: each request has a process of its own, and a slow provider
# call holds one worker, not the whole server.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Longer than the slowest call a request makes (Stripe, bounded to about
# 20 seconds with its retries), so a worker is never killed mid-payment.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30

# The proxy addresses whose X-Forwarded-* headers are believed; match
# ALLAUTH_TRUSTED_PROXY_COUNT and the proxy in front (README, "Security").
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Request line and headers: a real browser needs far less. Bodies are
# limited by the portal itself (REQUEST_BODY_MAX_BYTES) and the proxy.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


# gunicorn names itself in a Server header on every response and has no
# setting for it: telling a prober the server and its version helps only
# them. The master loads this file before it forks, so every worker answers
# without the header.
_default_headers = _gunicorn_wsgi.Response.default_headers


def _default_headers_without_server(self):
    return [line for line in _default_headers(self) if not line.startswith("Server:")]


_gunicorn_wsgi.Response.default_headers = _default_headers_without_server
