"""The server's tables, one module per domain."""

from .audit import AuditEvent
from .base import Base, utcnow
from .community import Community, LoginAttempt, Role, User
from .cycle import Category, Cycle, CycleKind, Project, ProjectStatus
from .device import Device, DeviceKind, DeviceStatus
from .integration import ApiClient
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
    "DeviceKind",
    "DeviceStatus",
    "LoginAttempt",
    "Project",
    "ProjectStatus",
    "ProjectTally",
    "Role",
    "TurnoutTally",
    "User",
    "Vote",
    "utcnow",
]
