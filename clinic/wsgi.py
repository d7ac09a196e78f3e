import os

from django.core.wsgi import get_wsgi_application

from clinic.startup import friendly_config_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

with friendly_config_errors():
    application = get_wsgi_application()
