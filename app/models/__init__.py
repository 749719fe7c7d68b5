from .account import PasswordHistory, UserSession
from .agency import Agency, Sequence, User
from .attachment import Attachment, OcrJob
from .audit import Event
from .calendar import CalendarChangeRequest, CalendarRevision, CalendarYear
from .case import Case, Delivery, Draft, Step
from .job import Job
from .letter import Letter, LetterTemplateOverride, LetterTemplateVersion
from .remedy import Remedy

__all__ = ["Attachment", "Job", "OcrJob", "Agency", "Sequence", "User", "Event", "CalendarYear", "CalendarRevision",
           "CalendarChangeRequest", "Case", "Delivery", "Draft", "Step", "Letter",
           "LetterTemplateOverride", "LetterTemplateVersion", "Remedy",
           "PasswordHistory", "UserSession"]
