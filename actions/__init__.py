"""The action server's actions (rasa-sdk loads this package first)."""

from routing.privacy.logmask import install as _mask_logs

_mask_logs()  # no phone or ID number in any log line of the action server
