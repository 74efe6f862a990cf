"""WSGI entry point (gunicorn kapcare.wsgi). Refuses to start on a dangerous configuration."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings")

application = get_wsgi_application()

from kapcare.core.startup import refuse_unsafe_start  # noqa: E402  (needs the apps loaded)

refuse_unsafe_start()
