"""ASGI entry point, for servers that speak ASGI."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings")

application = get_asgi_application()

from kapcare.core.startup import refuse_unsafe_start  # noqa: E402  (needs the apps loaded)

refuse_unsafe_start()
