"""The server's tables, one module per domain."""

from .audit import AuditEvent
from .base import Base, utcnow
from .community import Community, LoginAttempt, Role, User
from .cycle import Category, Cycle, CycleKind, Project, ProjectStatus
from .device import Device, DeviceKind, DeviceStatus
from .integration import ApiClient
from .sync import DeviceCheckpoint, DeviceEnrolment, DeviceLogEntry, PendingBatch, SyncPackage
from .vote import Alarm, ProjectTally, TurnoutTally, Vote

__all__ = [
    "Alarm",
    "ApiClient",
    "AuditEvent",
    "Base",
    "Category",
    "Community",
    "Cycle",
    "CycleKind",
    "Device",
    "DeviceCheckpoint",
    "DeviceEnrolment",
    "DeviceKind",
    "DeviceLogEntry",
    "DeviceStatus",
    "LoginAttempt",
    "PendingBatch",
    "Project",
    "ProjectStatus",
    "ProjectTally",
    "Role",
    "SyncPackage",
    "TurnoutTally",
    "User",
    "Vote",
    "utcnow",
]
