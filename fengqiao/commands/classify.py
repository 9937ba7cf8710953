"""`fengqiao classify`: JSON lines {"id", "text"} on stdin → one classification per line on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

BATCH_SIZE = 256


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `classify` verb."""
    parser = subparsers.add_parser(
        "classify",
        help="classify complaint messages (JSON lines on stdin)",
        description='Reads JSON lines {"id": ..., "text": ...} on stdin and writes one JSON line per '
        'input: {"id", "category", "category_path", "dispute_type", "confidence", "alternatives", ...}. '
        'A bad line yields {"id", "error"} and the run continues.',
    )
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: active, else shipped)")
    parser.set_defaults(func=run)


def _parse(line: str, line_no: int) -> tuple[Any, str | None, str | None]:
    """Return (id, text, error) for one input line."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"invalid JSON on line {line_no}: {exc.msg}"
    if not isinstance(item, dict):
        return None, None, f"line {line_no} is not a JSON object"
    ident = item.get("id", line_no)
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        return ident, None, "missing or empty \"text\""
    return ident, text, None


def _batches(lines: Iterable[str]) -> Iterator[list[tuple[Any, str | None, str | None]]]:
    batch = []
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        batch.append(_parse(line, line_no))
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def classify_stream(stdin: TextIO, stdout: TextIO, model_dir: Path | None = None) -> int:
    """Classify every line of ``stdin`` into ``stdout``; return the number of error lines."""
    from routing.understanding import classifier

    model = classifier.load(model_dir)
    errors = 0
    for batch in _batches(stdin):
        good = [(ident, text) for ident, text, error in batch if error is None and text is not None]
        results = iter(model.classify_many([text for _, text in good]))
        for ident, _text, error in batch:
            if error is not None:
                errors += 1
                out = {"id": ident, "error": error}
            else:
                out = {"id": ident, **next(results).to_json()}
            stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return errors


def run(args: argparse.Namespace) -> int:
    """Entry point of the verb."""
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    try:
        classify_stream(sys.stdin, sys.stdout, args.model)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
