"""`fengqiao train-classifier`: train the complaint classifier, install it, or roll it back."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `train-classifier` verb."""
    parser = subparsers.add_parser(
        "train-classifier",
        help="train the complaint classifier (project data + an optional agency CSV)",
        description="Trains on the project's own complaint corpus, plus --csv (columns title, detail, "
        "category, optional level2, level3) when given; with at least 60 rows that history gets an expert of "
        "its own, pooled with the project model (weight and threshold measured by cross-validation on "
        "the rows, see README). Without --out the new model becomes the active "
        "one (var/classifier/active) and the old one is kept as var/classifier/previous; restart the bot "
        "to use it. --rollback swaps active and previous.",
    )
    parser.add_argument("--csv", type=Path, default=None, help="agency history CSV to learn from")
    parser.add_argument("--out", type=Path, default=None, help="write the model here instead of activating it")
    parser.add_argument("--rollback", action="store_true", help="swap the active and previous models")
    parser.add_argument("--variant", default=None, help="model variant (see bench/classifier); default: shipped one")
    parser.add_argument(
        "--no-calibrate-threshold",
        action="store_true",
        help="skip the cross-validation that measures the low-confidence threshold (faster)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of the verb."""
    from routing.understanding.classifier import train
    from routing.understanding.classifier.data import CsvValidationError, read_agency_csv
    from routing.understanding.classifier.model import ACTIVE_DIR, PREVIOUS_DIR

    if args.rollback:
        if args.csv or args.out:
            print("error: --rollback takes no --csv / --out", file=sys.stderr)
            return 2
        try:
            train.rollback()
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"rolled back: {ACTIVE_DIR} ⇄ {PREVIOUS_DIR} (restart the bot to use it)")
        return 0
    if args.variant and args.variant not in train.VARIANTS:
        print(f"error: unknown variant {args.variant!r}; choose from {', '.join(train.VARIANTS)}", file=sys.stderr)
        return 2
    extra = []
    if args.csv is not None:
        try:
            extra = read_agency_csv(args.csv)
        except CsvValidationError as exc:
            print(f"error: {args.csv}: {exc}", file=sys.stderr)
            return 2
    variant = train.VARIANTS[args.variant] if args.variant else None
    measure = not args.no_calibrate_threshold
    if args.out is not None:
        out = args.out.resolve()
        metadata = train.train_model(out, extra=extra, variant=variant, measure=measure)
        print(f"model written to {out}")
    else:
        staging = ACTIVE_DIR.with_name("incoming")
        metadata = train.train_model(staging, extra=extra, variant=variant, measure=measure)
        train.install_active(staging)
        print(f"model installed as {ACTIVE_DIR} (previous kept in {PREVIOUS_DIR}; restart the bot to use it)")
    summary = {k: metadata[k] for k in ("variant", "project_rows", "agency_rows", "low_confidence_threshold", "train_seconds")}
    adaptation = metadata.get("agency_adaptation")
    if adaptation:
        summary["agency_expert"] = {
            k: adaptation[k] for k in ("alpha", "temperature", "oof_macro_f1", "oof_macro_f1_project_only")
        }
    print(json.dumps(summary, ensure_ascii=False))
    return 0
