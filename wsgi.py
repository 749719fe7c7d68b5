import os

from app import create_app, warm_up

app = create_app()
if os.environ.get("OGI_WARM_UP") == "1":  # serving (make run, a WSGI server), not a CLI command
    warm_up(app)
