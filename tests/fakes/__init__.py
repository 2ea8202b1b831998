"""Stand-ins for remote services that cannot exist on this machine (see each module)."""
