"""Users, passwords and bearer tokens."""

from aibox.auth.users import ROLES, User, UserStore

__all__ = ["ROLES", "User", "UserStore"]
