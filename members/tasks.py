from celery import shared_task

from .services import sessions_clear_expired


@shared_task
def clear_expired_sessions_task() -> int:
    return sessions_clear_expired()
