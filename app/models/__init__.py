from .agency import Agency, Sequence, User
from .audit import Event
from .calendar import CalendarYear
from .case import Case, Delivery, Draft, Step
from .letter import Letter, LetterTemplateOverride
from .remedy import Remedy

__all__ = ["Agency", "Sequence", "User", "Event", "CalendarYear", "Case", "Delivery", "Draft", "Step", "Letter",
           "LetterTemplateOverride", "Remedy"]
