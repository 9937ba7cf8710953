"""Organisations and the Fengqiao ladder: bodies by tier, default county centres, people."""
