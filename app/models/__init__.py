from .agency import Agency, Sequence, User
from .audit import Event
from .calendar import CalendarYear
from .case import Case, Delivery, Draft, Step

__all__ = ["Agency", "Sequence", "User", "Event", "CalendarYear", "Case", "Delivery", "Draft", "Step"]
