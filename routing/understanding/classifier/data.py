"""Training data for the complaint classifier: the project's corpus and agency CSV files."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
ROUTING_DATA = REPO_ROOT / "routing" / "data"
COMPLAINTS_DIR = ROUTING_DATA / "complaints"
DISPUTE_TYPES_CSV = ROUTING_DATA / "dispute_types.csv"
TAXONOMY_CSV_CANDIDATES = (
    COMPLAINTS_DIR / "taxonomy" / "hotline_categories.csv",
    REPO_ROOT.parent / "shared" / "reference" / "taxonomy" / "hotline_categories.csv",
)


@dataclass(frozen=True)
class Example:
    """One labelled message.

    Attributes:
        text: title and detail joined by a newline (the form the evaluation sends).
        category: first-level hotline category.
        level2: second-level category or "" when unknown.
        level3: third-level category or "" when unknown.
        dispute_type: dispute / report code or "" when unknown (agency data has none).
        group: where the example came from (scenario name or "agency"), for grouped CV.
    """

    text: str
    category: str
    level2: str = ""
    level3: str = ""
    dispute_type: str = ""
    group: str = ""


class CsvValidationError(ValueError):
    """An agency CSV that cannot be used for training; the message says why."""


def join_text(title: str, detail: str) -> str:
    """Join title and detail the way the evaluation and the bot do."""
    title, detail = (title or "").strip(), (detail or "").strip()
    return f"{title}\n{detail}" if detail else title


@lru_cache(maxsize=1)
def taxonomy() -> tuple[tuple[str, str, str], ...]:
    """Return the hotline taxonomy rows ``(level1, level2, level3)``.

    Looks for the copy in ``routing/data/complaints/taxonomy`` first, then in the shared reference folder; falls back
    to the category paths that occur in the project's own corpus.
    """
    for path in TAXONOMY_CSV_CANDIDATES:
        if path.exists():
            with path.open(newline="", encoding="utf-8") as f:
                return tuple((r["level1"], r["level2"], r["level3"]) for r in csv.DictReader(f))
    rows = {(e.category, e.level2, e.level3) for e in project_examples()}
    return tuple(sorted(rows))


def level1_categories() -> list[str]:
    """The 15 first-level categories."""
    return sorted({row[0] for row in taxonomy()})


@lru_cache(maxsize=1)
def dispute_types() -> dict[str, str]:
    """Map dispute / report type code to its Chinese name."""
    with DISPUTE_TYPES_CSV.open(newline="", encoding="utf-8") as f:
        return {r["code"]: r["name"] for r in csv.DictReader(f)}


def _example(r: dict[str, str], stem: str) -> Example:
    return Example(
        text=join_text(r["title"], r.get("detail", "")),
        category=r["category"],
        level2=r.get("level2", "") or "",
        level3=r.get("level3", "") or "",
        dispute_type=r.get("dispute_type", "") or "",
        group=r.get("scenario", "") or f"{stem}:{r['category']}/{r.get('level2', '')}",
    )


def _read_corpus_file(path: Path) -> list[Example]:
    with path.open(newline="", encoding="utf-8") as f:
        return [_example(r, path.stem) for r in csv.DictReader(f)]


def _scenario_stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.glob("*.yaml")))


@lru_cache(maxsize=2)
def _generated(directory: Path, stamp: tuple[tuple[str, int, int], ...]) -> tuple[Example, ...]:
    from routing.data.complaints import generate  # lazy: generation needs OpenCC

    return tuple(_example(r, "generated") for r in generate.generate(scenarios=generate.load_scenarios(directory)))


def project_examples(directory: Path | None = None, scenarios: Path | None = None) -> list[Example]:
    """Return the project's complaint corpus, generated from the scenario files now.

    Args:
        directory: a folder of prepared corpus ``*.csv`` files to read instead (benchmarks).
        scenarios: the scenario folder (``classifier_data/scenarios`` by default).

    Returns:
        All examples: the generated corpus plus any hand-labelled ``*.csv`` in
        ``routing/data/complaints``; or the files of ``directory`` in file order.
    """
    if directory is not None:
        return [e for path in sorted(directory.glob("*.csv")) for e in _read_corpus_file(path)]
    from routing.data.complaints.generate import SCENARIO_DIR

    folder = scenarios or SCENARIO_DIR
    examples = list(_generated(folder, _scenario_stamp(folder)))
    for path in sorted(COMPLAINTS_DIR.glob("*.csv")):
        examples.extend(_read_corpus_file(path))
    return examples


def read_agency_csv(path: Path) -> list[Example]:
    """Read and validate an agency's labelled history.

    Args:
        path: CSV with columns ``title, detail, category`` and optionally ``level2, level3``.

    Returns:
        The examples, tagged with group ``"agency"``.

    Raises:
        CsvValidationError: the file is missing, unreadable, lacks a column, is empty, or names
            a category / path that is not in the hotline taxonomy.
    """
    if not path.is_file():
        raise CsvValidationError(f"文件不存在 / file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            fields = [name.strip() for name in (reader.fieldnames or [])]
            missing = [c for c in ("title", "detail", "category") if c not in fields]
            if missing:
                raise CsvValidationError(
                    f"缺少列 / missing column(s): {', '.join(missing)} (found: {', '.join(fields) or 'none'})"
                )
            rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]
    except UnicodeDecodeError as exc:
        raise CsvValidationError(f"文件不是 UTF-8 编码 / not UTF-8: {exc}") from exc
    if not rows:
        raise CsvValidationError("文件没有数据行 / the file has no data rows")
    known_l1 = set(level1_categories())
    known_l2 = {(a, b) for a, b, _ in taxonomy()}
    known_l3 = set(taxonomy())
    problems: list[str] = []
    examples: list[Example] = []
    for line_no, r in enumerate(rows, start=2):
        category, level2, level3 = r["category"], r.get("level2", ""), r.get("level3", "")
        if category not in known_l1:
            problems.append(f"line {line_no}: unknown category {category!r}")
            continue
        if level2 and (category, level2) not in known_l2:
            problems.append(f"line {line_no}: unknown level2 {category}/{level2}")
            continue
        if level3 and (category, level2, level3) not in known_l3:
            problems.append(f"line {line_no}: unknown level3 {category}/{level2}/{level3}")
            continue
        text = join_text(r["title"], r["detail"])
        if not text:
            problems.append(f"line {line_no}: empty title and detail")
            continue
        examples.append(Example(text=text, category=category, level2=level2, level3=level3, group="agency"))
    if problems:
        shown = "; ".join(problems[:5]) + (f"; … {len(problems) - 5} more" if len(problems) > 5 else "")
        raise CsvValidationError(f"{len(problems)} invalid row(s): {shown}. Allowed categories: {', '.join(sorted(known_l1))}")
    return examples
