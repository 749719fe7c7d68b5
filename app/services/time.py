from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def today() -> date:
    """The office's today (its date in OGI_TIMEZONE, whatever the host's zone: the 07:30 digest on
    a UTC host runs at 23:30 of the day before); OGI_TODAY pins it for demos and tests of clocks."""
    fixed = current_app.config["OGI_TODAY"]
    if fixed:
        return date.fromisoformat(fixed)
    return datetime.now(ZoneInfo(current_app.config["OGI_TIMEZONE"])).date()


def utcnow() -> datetime:
    """Now, naive UTC as stored; OGI_NOW (ISO date-time, UTC) pins it for tests of sessions and
    password age, as OGI_TODAY pins the date."""
    fixed = current_app.config["OGI_NOW"]
    return datetime.fromisoformat(fixed) if fixed else datetime.utcnow()


def local(dt: datetime | None) -> datetime | None:
    """Stored times are naive UTC; show them in the office's time zone (OGI_TIMEZONE)."""
    if dt is None:
        return None
    zone = ZoneInfo(current_app.config["OGI_TIMEZONE"])
    return dt.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
