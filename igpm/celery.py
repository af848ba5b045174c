"""The portal's Celery application.

With ``REDIS_URL`` (or ``CELERY_BROKER_URL``) set, Redis is the broker; with
neither, a file-system broker under ``var/`` needs no server at all, so the
embedded default still runs a real worker and a real beat.
"""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from igpm.logs import task_finished, task_publishing, task_starting

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "igpm.settings.local")

app = Celery("igpm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Log lines of a task carry the id of the request that queued it.
before_task_publish.connect(task_publishing, weak=False)
task_prerun.connect(task_starting, weak=False)
task_postrun.connect(task_finished, weak=False)
