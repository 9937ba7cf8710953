"""The desk's thresholds and the grid admission list, read from ``routing/data/orgs/``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from routing.orgs.registry import DATA_DIR


@dataclass(frozen=True, slots=True)
class CentreConfig:
    """Thresholds of the early-warning panel and times of the sweep (``centre.yaml``)."""

    window_days: int = 7
    min_cases: int = 3
    min_cases_group: int = 2
    bounce_limit: int = 2
    ack_minutes: int = 120
    max_level: int = 2
    supervision_days: int = 5
    near_due_working_days: int = 3
    default_capacity: int = 15
    sweep_interval_minutes: int = 30
    lock_minutes: int = 20


@dataclass(frozen=True, slots=True)
class GridAdmission:
    """网格事务准入清单: dispute types that may be put on grid workers."""

    version: str
    allowed: Mapping[str, str]  # code -> what the list says

    def admits(self, dispute_type: str | None) -> bool:
        """Tell whether a matter of this dispute type may go to a grid worker."""
        return bool(dispute_type) and dispute_type in self.allowed


def _yaml(path: Path) -> dict:
    import yaml  # lazy

    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


@lru_cache(maxsize=4)
def load_config(data_dir: Path = DATA_DIR) -> CentreConfig:
    """Read ``centre.yaml`` (missing keys keep their defaults)."""
    path = data_dir / "centre.yaml"
    raw = _yaml(path) if path.exists() else {}
    h, w, s = raw.get("hotspot", {}), raw.get("warnings", {}), raw.get("supervision", {})
    d, sw = raw.get("desk", {}), raw.get("sweep", {})
    base = CentreConfig()
    return CentreConfig(
        window_days=int(h.get("window_days", base.window_days)),
        min_cases=int(h.get("min_cases", base.min_cases)),
        min_cases_group=int(h.get("min_cases_group", base.min_cases_group)),
        bounce_limit=int(w.get("bounce_limit", base.bounce_limit)),
        ack_minutes=int(w.get("ack_minutes", base.ack_minutes)),
        max_level=int(w.get("max_level", base.max_level)),
        supervision_days=int(s.get("default_days", base.supervision_days)),
        near_due_working_days=int(d.get("near_due_working_days", base.near_due_working_days)),
        default_capacity=int(d.get("default_capacity", base.default_capacity)),
        sweep_interval_minutes=int(sw.get("interval_minutes", base.sweep_interval_minutes)),
        lock_minutes=int(sw.get("lock_minutes", base.lock_minutes)),
    )


@lru_cache(maxsize=4)
def load_grid_admission(data_dir: Path = DATA_DIR) -> GridAdmission:
    """Read ``grid_admission.yaml``."""
    raw = _yaml(data_dir / "grid_admission.yaml")
    allowed = {str(r["code"]): str(r.get("name", r["code"])) for r in raw.get("dispute_types", [])}
    return GridAdmission(str(raw.get("version", "")), allowed)
