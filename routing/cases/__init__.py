"""The case domain: statuses and legal transitions, clocks, events, and one module per use case
(filing, handling, review, transfer, clocks and the sweep, reception days), all through one unit of work."""
