"""Personal data at rest: field encryption, blind indexes, key rotation, retention and purge."""
