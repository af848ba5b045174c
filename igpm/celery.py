"""The portal's Celery application.

With ``REDIS_URL`` (or ``CELERY_BROKER_URL``) set, Redis is the broker; with
neither, a file-system broker under ``var/`` needs no server at all, so the
embedded default still runs a real worker and a real beat.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "igpm.settings.local")

app = Celery("igpm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
