"""Complaint classifier: hotline category path, dispute type, calibrated confidence.

Usage::

    from routing.understanding import classifier
    result = classifier.load().classify("小区物业乱收费，电梯坏了也不修")
    result.category, result.category_path, result.dispute_type, result.confidence

Models are built with ``fengqiao train-classifier``; nothing is loaded at import time.
"""

from routing.understanding.classifier.model import (
    Classification,
    Classifier,
    default_model_dir,
    load,
)

__all__ = ["Classification", "Classifier", "default_model_dir", "load"]
