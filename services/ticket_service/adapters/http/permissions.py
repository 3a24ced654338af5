"""The role table of design §4/§9 as data, enforced for every endpoint by one dependency.

Each route names its operation; :data:`ROLE_TABLE` says which roles may call it. A role
that may never call an operation gets 403. Finer rules (closed tickets, whose ticket it
is) live in the domain and in the help-center visibility check, not here.
"""

from __future__ import annotations

from collections.abc import Mapping

from contracts.common import INTERNAL_ROLES, POLICY_ADMIN_ROLES, Role

INTERNAL = INTERNAL_ROLES
INTERNAL_AND_INTEGRATION = INTERNAL_ROLES | {Role.INTEGRATION}
HELP_CENTER = frozenset({Role.REQUESTER})
WEBHOOK_ADMINS = POLICY_ADMIN_ROLES | {Role.INTEGRATION}

ROLE_TABLE: Mapping[str, frozenset[Role]] = {
    "create_ticket": INTERNAL_AND_INTEGRATION,
    "get_ticket": INTERNAL_AND_INTEGRATION,
    "update_ticket": INTERNAL_AND_INTEGRATION,
    "add_comment": INTERNAL_AND_INTEGRATION,
    "create_follow_up": INTERNAL_AND_INTEGRATION,
    "ticket_events": INTERNAL_AND_INTEGRATION,
    "bulk_update": INTERNAL,
    "view_all": INTERNAL,
    "view_closed": INTERNAL,
    "get_auto_close": INTERNAL,
    "put_auto_close": POLICY_ADMIN_ROLES,
    "list_organizations": INTERNAL,
    "get_organization": INTERNAL,
    "create_organization": POLICY_ADMIN_ROLES,
    "update_organization": POLICY_ADMIN_ROLES,
    "delete_organization": POLICY_ADMIN_ROLES,
    "list_requests": HELP_CENTER,
    "create_request": HELP_CENTER,
    "get_request": HELP_CENTER,
    "comment_request": HELP_CENTER,
    "follow_up_request": HELP_CENTER,
    "list_dead_letters": POLICY_ADMIN_ROLES,
    "get_dead_letter": POLICY_ADMIN_ROLES,
    "retry_dead_letter": POLICY_ADMIN_ROLES,
    "purge_dead_letter": POLICY_ADMIN_ROLES,
    "get_ticket_original": INTERNAL_AND_INTEGRATION,
    "get_ticket_attachment": INTERNAL_AND_INTEGRATION,
    "get_request_opening_attachment": HELP_CENTER,
    "get_comment_original": INTERNAL_AND_INTEGRATION,
    "get_comment_attachment": INTERNAL_AND_INTEGRATION,
    "get_request_attachment": HELP_CENTER,
    "create_webhook": WEBHOOK_ADMINS,
    "list_webhooks": WEBHOOK_ADMINS,
    "get_webhook": WEBHOOK_ADMINS,
    "update_webhook": WEBHOOK_ADMINS,
    "delete_webhook": WEBHOOK_ADMINS,
    "rotate_webhook_secret": WEBHOOK_ADMINS,
    "list_webhook_deliveries": WEBHOOK_ADMINS,
    "redeliver_webhook_delivery": WEBHOOK_ADMINS,
    "ping_webhook": WEBHOOK_ADMINS,
    "webhook_audit": WEBHOOK_ADMINS,
}


def allowed(operation: str, role: Role) -> bool:
    return role in ROLE_TABLE[operation]
