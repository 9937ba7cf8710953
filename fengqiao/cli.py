"""The `fengqiao` console command: one verb per module in `fengqiao.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module exposes `register(subparsers)`, which adds its verb(s) and sets `func`.
COMMAND_MODULES = [
    "fengqiao.commands.db",
    "fengqiao.commands.chat",
    "fengqiao.commands.run",
    "fengqiao.commands.deadline",
    "fengqiao.commands.classify",
    "fengqiao.commands.train_classifier",
    "fengqiao.commands.train_safety",
    "fengqiao.commands.sweep",
    "fengqiao.commands.reception",
    "fengqiao.commands.user",
    "fengqiao.commands.apikey",
    "fengqiao.commands.webhook",
    "fengqiao.commands.audit",
    "fengqiao.commands.report",
    "fengqiao.commands.keys",
    "fengqiao.commands.retention",
]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered verb."""
    parser = argparse.ArgumentParser(prog="fengqiao", description="枫桥助手 project commands")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one verb and return its exit status."""
    from routing.privacy.logmask import install

    install()  # no phone or ID number in any log line of any verb
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
