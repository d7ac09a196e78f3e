"""The Celery app. Tasks live in each app's tasks.py, take ids, and call a service."""

import os

from celery import Celery

from clinic.startup import friendly_config_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
with friendly_config_errors():
    app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
