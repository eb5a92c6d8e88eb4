"""The server's tables, one module per domain."""

from .audit import AuditEvent
from .base import Base, utcnow
from .community import Community, Role, User
from .cycle import Category, Cycle, CycleKind, Project, ProjectPhoto, ProjectStatus
from .device import Device, DeviceKind, DeviceStatus
from .eligibility import EligibilityList, EligibleVoter
from .integration import ApiClient
from .job import Job, JobFile
from .paper_scan import PaperScanCrop, PaperScanDecision, PaperScanPage, PaperScanSheet
from .paper_tally import PaperTally, PaperTallyLine
from .poll import Poll, PollAnswer, PollAnswerItem, PollOption, PollQuestion
from .school import CodeBatch, School, SchoolContest, VotingCode
from .sync import DeviceCheckpoint, DeviceEnrolment, DeviceLogEntry, HeldVote, PendingBatch, SyncPackage
from .throttle import ThrottleBucket
from .vote import Alarm, ProjectTally, TurnoutTally, Vote

__all__ = [
    "Alarm",
    "ApiClient",
    "AuditEvent",
    "Base",
    "Category",
    "CodeBatch",
    "Community",
    "Cycle",
    "CycleKind",
    "Device",
    "DeviceCheckpoint",
    "DeviceEnrolment",
    "DeviceKind",
    "DeviceLogEntry",
    "DeviceStatus",
    "EligibilityList",
    "EligibleVoter",
    "HeldVote",
    "Job",
    "JobFile",
    "PaperScanCrop",
    "PaperScanDecision",
    "PaperScanPage",
    "PaperScanSheet",
    "PaperTally",
    "PaperTallyLine",
    "PendingBatch",
    "Poll",
    "PollAnswer",
    "PollAnswerItem",
    "PollOption",
    "PollQuestion",
    "Project",
    "ProjectPhoto",
    "ProjectStatus",
    "ProjectTally",
    "Role",
    "School",
    "SchoolContest",
    "SyncPackage",
    "ThrottleBucket",
    "TurnoutTally",
    "User",
    "Vote",
    "VotingCode",
    "utcnow",
]
