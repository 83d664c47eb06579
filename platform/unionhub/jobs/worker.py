"""Entry point for ``celery -A unionhub.jobs.worker worker`` and ``… beat``.

The Flask app is created from the environment (``UNIONHUB_*``); ``UNIONHUB_BROKER_URL``
must be set.
"""

from unionhub.app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
app = celery
