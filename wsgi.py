import sys

from app import SecretKeyMissing, create_app, warm_up

try:
    app = create_app()
except SecretKeyMissing as e:  # the operator's message, without a traceback
    sys.exit(str(e))
if app.config["OGI_WARM_UP"]:  # serving (make run, a WSGI server), not a CLI command
    warm_up(app)
