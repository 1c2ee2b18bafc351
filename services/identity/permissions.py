"""Which Microsoft Graph permission each call of the bot needs, in one table.

An admin grants exactly what this table names (the README lists it, ``tests/test_docs.py`` holds the
two together, ``python -m bot doctor --online`` checks what the tenant granted): a permission no code
uses is a needless grant, a call without its permission fails only in a real tenant.
"""

from __future__ import annotations

USERS_PERMISSION = "User.Read.All"
ROLES_PERMISSION = "RoleManagement.Read.Directory"
INSTALL_PERMISSION = "TeamsAppInstallation.ReadWriteSelfForUser.All"
SSO_PERMISSION = "User.Read"

#: (method, path pattern under /v1.0) → (permission, type). ``{id}`` stands for any one path segment.
GRAPH_CALLS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/users"): (USERS_PERMISSION, "Application"),
    ("GET", "/users/{id}"): (USERS_PERMISSION, "Application"),
    ("GET", "/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole"): (ROLES_PERMISSION, "Application"),
    ("GET", "/users/{id}/teamwork/installedApps"): (INSTALL_PERMISSION, "Application"),
    ("POST", "/users/{id}/teamwork/installedApps"): (INSTALL_PERMISSION, "Application"),
    ("GET", "/me"): (SSO_PERMISSION, "Delegated"),
}

#: What each feature needs of the application permissions (what ``doctor --online`` checks).
FEATURE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "people and company emails": (USERS_PERMISSION,),
    "Entra Global Administrators": (ROLES_PERMISSION,),
    "proactive install": (INSTALL_PERMISSION,),
}
#: Features that work without their permission, only less well (the doctor warns instead of failing).
OPTIONAL_FEATURES = frozenset({"proactive install"})
