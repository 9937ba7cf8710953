"""Build the crisis corpus (``corpus.jsonl``) from the hand-written sources in this folder.

Deterministic: the same sources always give the same rows. The JSONL is a build product, not
committed: ``fengqiao train-safety`` (and ``python -m routing.understanding.safety.data.corpus.build``) write
it; the model reads the rows built in memory from the sources (``rows``) and its fingerprint
hashes the sources (``source_files``), so editing a source retrains the model.

Sources (all written for this project; nothing is taken from real citizens' messages):
    danger.tsv, danger_variants.tsv,
    danger_more.tsv, danger_third.tsv,
    danger_fourth.tsv … danger_eighth.tsv  kind, third_party, sentence
    danger_w1.tsv, danger_w2.tsv      the same, by two further writers (self-harm/medical;
                                      violence/threats/detention) who read no other source
    danger_w3.tsv                     the same, by a third further writer (all kinds)
    hard_negatives.txt, hard_negatives_more.txt,
    hard_negatives_third.txt … hard_negatives_ninth.txt  everyday sentences with strong words
    hard_negatives_w1.txt … hard_negatives_w3.txt  the same by the further writers (writer 3:
                                      many long grievance narratives, one per line)
    grievances.txt                   ordinary grievance narratives used as message bodies
Each danger sentence and hard negative appears short and inside a long narrative; about a fifth
of the messages are converted to Traditional characters (OpenCC s2t / s2hk).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "corpus.jsonl"
MIDDLES = (
    "",
    "我跑了很多部门，都说不归他们管。",
    "打了好几次12345，每次都说转交，然后就没有下文了。",
    "我真的已经没有办法了。",
    "家里的积蓄全花光了，亲戚朋友也借遍了。",
    "这件事拖到现在，谁都不管。",
    "我每天晚上都睡不着。",
)
CLOSINGS = ("希望有人能看到这条消息。", "我不知道还能找谁。", "请领导帮帮忙。")
DANGER_SOURCES = (
    "danger.tsv", "danger_variants.tsv", "danger_more.tsv", "danger_third.tsv", "danger_fourth.tsv",
    "danger_fifth.tsv", "danger_sixth.tsv", "danger_seventh.tsv", "danger_eighth.tsv",
    "danger_w1.tsv", "danger_w2.tsv", "danger_w3.tsv",
)
NEGATIVE_SOURCES = (
    "hard_negatives.txt", "hard_negatives_more.txt", "hard_negatives_third.txt",
    "hard_negatives_fourth.txt", "hard_negatives_fifth.txt", "hard_negatives_sixth.txt",
    "hard_negatives_eighth.txt", "hard_negatives_ninth.txt",
    "hard_negatives_w1.txt", "hard_negatives_w2.txt", "hard_negatives_w3.txt",
)


def _lines(name: str) -> list[str]:
    rows = (HERE / name).read_text(encoding="utf-8").splitlines()
    return [r.strip() for r in rows if r.strip() and not r.startswith("#")]


def _pick(seq: tuple[str, ...] | list[str], key: str, salt: str = "") -> str:
    digest = hashlib.sha256((salt + key).encode()).digest()
    return seq[int.from_bytes(digest[:4], "big") % len(seq)]


@functools.cache
def _converter(config: str) -> Any:
    import opencc

    return opencc.OpenCC(config)


def _traditional(text: str, key: str) -> tuple[str, str]:
    """Convert about one message in five to Traditional (stable per key)."""
    bucket = int(hashlib.sha256(("trad" + key).encode()).hexdigest(), 16) % 100
    if bucket >= 21:
        return text, "simplified"
    config = "s2hk" if bucket % 3 == 0 else "s2t"
    return _converter(config).convert(text), "traditional"


def _embed(sentence: str, key: str, grievances: list[str]) -> str:
    body = _pick(grievances, key, "body")
    middle = _pick(MIDDLES, key, "mid")
    if int(hashlib.sha256(("pos" + key).encode()).hexdigest(), 16) % 4 == 0:
        text = body + sentence + middle + _pick(CLOSINGS, key, "close")
    else:
        text = body + middle + sentence
    if len(text) < 150:
        text = _pick(grievances, key, "body2") + text
    return text


def _script_of(text: str) -> str:
    from routing.understanding.text import is_traditional

    return "traditional" if is_traditional(text) else "simplified"


def _danger_rows(grievances: list[str]) -> list[dict]:
    rows = []
    for source in DANGER_SOURCES:
        for n, line in enumerate(_lines(source)):
            kind, third, sentence = line.split("\t")
            group = f"{source.split('.')[0]}:{n:03d}"
            forms = [("short", sentence), ("embedded", _embed(sentence, group, grievances))]
            if source != "danger_variants.tsv" and n % 3 == 0:
                forms.append(("embedded2", _embed(sentence, group + "b", grievances)))
            for form, text in forms:
                if _script_of(sentence) == "simplified":
                    text, script = _traditional(text, group + form)
                else:
                    script = "traditional"
                rows.append({
                    "id": f"{group}:{form}", "text": text, "label": 1, "kind": kind,
                    "third_party": third == "1", "script": script,
                    "embedded": form != "short", "group": group, "component": sentence,
                })
    return rows


def _negative_rows(grievances: list[str]) -> list[dict]:
    rows = []
    # The _w files: further writers who had not read the corpus, the lexicon or any blind set.
    sentences = [(name.split(".")[0], s) for name in NEGATIVE_SOURCES for s in _lines(name)]
    for n, (source, sentence) in enumerate(sentences):
        group = f"{source}:{n:03d}"
        forms = [("short", sentence), ("embedded", _embed(sentence, group, grievances))]
        if n % 4 == 0:
            forms.append(("embedded2", _embed(sentence, group + "b", grievances)))
        for form, text in forms:
            text, script = _traditional(text, group + form)
            rows.append({
                "id": f"{group}:{form}", "text": text, "label": 0, "kind": "",
                "third_party": False, "script": script, "embedded": form != "short",
                "group": group, "component": sentence,
            })
    for n, body in enumerate(grievances):
        group = f"grievances:{n:03d}"
        text, script = _traditional(body, group)
        rows.append({
            "id": f"{group}:body", "text": text, "label": 0, "kind": "", "third_party": False,
            "script": script, "embedded": True, "group": group, "component": body,
        })
    return rows


def build() -> list[dict]:
    """Return the corpus rows (danger first, then negatives)."""
    grievances = _lines("grievances.txt")
    return _danger_rows(grievances) + _negative_rows(grievances)


def source_files() -> list[Path]:
    """Every file the corpus is built from (the model's fingerprint hashes them)."""
    names = (*DANGER_SOURCES, *NEGATIVE_SOURCES, "grievances.txt")
    return [HERE / name for name in names] + [Path(__file__).resolve()]


_ROWS: dict[str, list[dict]] = {}


def rows() -> list[dict]:
    """The corpus rows, built once per process from the sources (about a second)."""
    if "rows" not in _ROWS:
        _ROWS["rows"] = build()
    return _ROWS["rows"]


def write(out: Path = OUT) -> list[dict]:
    """Write ``corpus.jsonl`` (for reading and the benches) and return its rows; a read-only
    checkout keeps the rows in memory."""
    built = rows()
    try:
        tmp = out.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for row in built:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        tmp.replace(out)
    except OSError:
        pass
    return built


def main() -> None:
    """Write ``corpus.jsonl`` and print its counts."""
    rows = write()
    danger = [r for r in rows if r["label"]]
    print(
        f"{len(danger)} danger ({sum(r['embedded'] for r in danger)} embedded, "
        f"{sum(r['script'] == 'traditional' for r in danger)} traditional), "
        f"{len(rows) - len(danger)} negatives -> {OUT.name}"
    )


if __name__ == "__main__":
    main()
