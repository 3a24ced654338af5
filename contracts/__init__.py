"""Wire contracts: every message that crosses a service boundary (Kafka, HTTP bodies of events).

Shared message schemas live here and nowhere else. Services import these models; JSON Schema
files generated from them are committed under ``contracts/schemas/``.
"""

from contracts.commands import (
    AddComment,
    ChangeAutoClosePolicy,
    CloseTicket,
    Command,
    CommandAdapter,
    CreateFollowUp,
    CreateTicket,
    FollowUpRequested,
    UpdateTicket,
)
from contracts.common import (
    ACTIVE_STATUSES,
    INTEGRATION_EDITABLE_FIELDS,
    Actor,
    Channel,
    Priority,
    Role,
    Status,
    TicketChanges,
    TicketFields,
    TicketRef,
)
from contracts.dead_letters import DeadLetter
from contracts.events import (
    AutoClosePolicyChanged,
    CommandRejected,
    CommentAdded,
    Event,
    EventAdapter,
    FollowUpCreated,
    OrganizationChanged,
    OrganizationCreated,
    OrganizationDeleted,
    StatusChanged,
    TicketClosed,
    TicketCreated,
    TicketUpdated,
)

__all__ = [
    "ACTIVE_STATUSES",
    "INTEGRATION_EDITABLE_FIELDS",
    "Actor",
    "AddComment",
    "AutoClosePolicyChanged",
    "ChangeAutoClosePolicy",
    "Channel",
    "CloseTicket",
    "Command",
    "CommandAdapter",
    "CommandRejected",
    "CommentAdded",
    "CreateFollowUp",
    "CreateTicket",
    "DeadLetter",
    "Event",
    "EventAdapter",
    "FollowUpCreated",
    "FollowUpRequested",
    "OrganizationChanged",
    "OrganizationCreated",
    "OrganizationDeleted",
    "Priority",
    "Role",
    "Status",
    "StatusChanged",
    "TicketChanges",
    "TicketClosed",
    "TicketCreated",
    "TicketFields",
    "TicketRef",
    "TicketUpdated",
    "UpdateTicket",
]
