"""`fengqiao train-safety`: train the danger check's model and store it under models/safety/."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `train-safety` verb."""
    parser = subparsers.add_parser(
        "train-safety",
        help="train the danger check's model (crisis corpus + complaint corpus)",
        description="Rebuilds the model of routing/understanding/safety from the crisis corpus "
        "(routing/understanding/safety/data/corpus) and the project's complaint corpus, deterministically and "
        "without downloads. The check also trains it on first use when the stored model is "
        "missing or older than its data; run this at build time so the first message is fast.",
    )
    parser.add_argument("--out", type=Path, default=None, help="model folder (default: $FENGQIAO_SAFETY_DIR or models/safety)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of the verb."""
    from routing.understanding.safety import model

    started = time.monotonic()
    out = args.out or model.model_dir()
    bundle = model.train(out)
    print(json.dumps({
        "model": str(out / model.MODEL_FILE),
        "fingerprint": bundle["fingerprint"],
        "threshold": model.THRESHOLD,
        "seconds": round(time.monotonic() - started, 1),
    }, ensure_ascii=False))
    return 0
