"""The social governance centre's desk (社会治理中心): board, early warnings, supervision.

Everything here reads the case store and its event log; nothing here types a figure in.
``tables`` (the centre's own tables), ``config`` (thresholds as data), ``board`` (live counts),
``hotspots`` (clusters of complaints), ``warnings`` (the early-warning feed and its closed loop),
``supervision`` (挂牌督办), ``reconcile`` (recount from events), ``sweep`` (the scheduled run).
"""
