from datetime import date

from flask import current_app


def today() -> date:
    """The office's today; OGI_TODAY pins it for demos and tests of clocks."""
    fixed = current_app.config.get("OGI_TODAY")
    return date.fromisoformat(fixed) if fixed else date.today()
