"""The danger check (危机识别): is the person writing, or someone they speak of, in danger now?

Runs on every citizen message before anything else (the gateway's pre-check), independent of
the dialogue's intent. `check` never raises: when the detector itself fails, the verdict is
"possibly dangerous" (``failed=True``) so that the emergency numbers are shown anyway.
"""

from __future__ import annotations

from routing.understanding.safety.verdict import KINDS, DangerVerdict, numbers_for

__all__ = ["KINDS", "DangerVerdict", "check", "numbers_for"]


def check(text: str) -> DangerVerdict:
    """Return the danger verdict for one citizen message; never raises.

    Args:
        text: the message exactly as the citizen wrote it (any script, any junk).

    Returns:
        A verdict; ``danger`` is True when someone may be in danger now or the check failed.
    """
    try:
        from routing.understanding.safety.detector import detect

        return detect(text)
    except Exception as exc:  # the check must never be silent: fail towards danger
        return DangerVerdict.failure(type(exc).__name__)
