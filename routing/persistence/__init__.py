"""SQLAlchemy adapters for the routing ports (``routing.cases.ports``) and the case-life tables.

``tables`` declares the tables added by migration 0003 (clocks, reception days, bookings, 包案);
``events`` maps domain :class:`routing.cases.events.Event` values to append-only ``case_events`` rows;
``clocks`` persists statutory clocks and runs the sweep query; ``reception`` and ``history``
implement ``ReceptionRepository`` and ``PetitionHistory``. Nothing happens at import time.
"""
