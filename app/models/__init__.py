from .account import PasswordHistory, UserSession
from .agency import Agency, Sequence, User
from .agency_request import AgencyRequest
from .attachment import Attachment, OcrJob
from .audit import Event
from .calendar import CalendarChangeRequest, CalendarRevision, CalendarYear
from .case import Case, CaseTally, Delivery, Draft, Step
from .job import Job
from .letter import Letter, LetterTemplateOverride, LetterTemplateVersion
from .public import CorrectionReply, Message, OnlineFile, OnlineRequest, SmsCode
from .redaction import Redaction, Release, SourceDocument
from .remedy import Remedy
from .report import AnnualReportEntry
from .schedule import Digest, ScheduledRun
from .transfer import CaseTransfer

__all__ = ["AgencyRequest", "Attachment", "Job", "OcrJob", "Agency", "Sequence", "User", "Event", "CalendarYear", "CalendarRevision",
           "CalendarChangeRequest", "Case", "CaseTally", "Delivery", "Draft", "Step", "Letter",
           "LetterTemplateOverride", "LetterTemplateVersion", "Remedy",
           "PasswordHistory", "UserSession", "Digest", "ScheduledRun", "OnlineRequest", "OnlineFile",
           "CorrectionReply", "SmsCode", "Message", "SourceDocument", "Redaction", "Release", "AnnualReportEntry",
           "CaseTransfer"]
