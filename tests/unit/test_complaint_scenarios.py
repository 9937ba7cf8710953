"""The hand-written complaint scenarios are data files with a schema, and training reads them fresh."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest
import yaml

from routing.data.complaints import generate as gen
from routing.understanding.classifier import data as cdata

FILES = sorted(gen.SCENARIO_DIR.glob("*.yaml"))
SLOT = re.compile(r"\{(\w+)\}")


def test_one_file_per_category_of_the_taxonomy() -> None:
    categories = [yaml.safe_load(p.read_text(encoding="utf-8"))["category"] for p in FILES]
    assert sorted(categories) == sorted(cdata.level1_categories())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_scenario_follows_the_schema(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(raw) == {"category", "scenarios"}
    paths = {"/".join(x for x in row if x) for row in cdata.taxonomy()}
    paths |= {"/".join(row[:2]) for row in cdata.taxonomy()}
    known_slots = set(gen.make_context(random.Random(0))) | {"w", "dept"}
    for scenario in raw["scenarios"]:
        checked = gen._check(scenario, path.name, raw["category"])
        assert list(checked)[:3] == ["id", "path", "dispute_type"]
        assert checked["path"] in paths or checked["path"].endswith("/其他"), checked["path"]
        assert checked["dispute_type"] in cdata.dispute_types(), checked["dispute_type"]
        texts = [t for key in gen.LIST_KEYS for t in checked.get(key, [])]
        assert {s for t in texts for s in SLOT.findall(t)} <= known_slots, checked["id"]


def test_ids_are_unique_and_a_bad_file_is_refused(tmp_path: Path) -> None:
    assert len(gen.load_scenarios()) == 338
    shutil.copy(FILES[0], tmp_path / FILES[0].name)
    broken = yaml.safe_load(FILES[0].read_text(encoding="utf-8"))
    broken["scenarios"][0]["t"] = broken["scenarios"][0].pop("titles")  # a short key is not allowed
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    with pytest.raises(gen.ScenarioError, match="unknown keys"):
        gen.load_scenarios(tmp_path)


def test_training_reads_an_edited_scenario_without_a_regeneration_step(tmp_path: Path) -> None:
    for p in FILES:
        shutil.copy(p, tmp_path / p.name)
    target = tmp_path / FILES[0].name
    raw = yaml.safe_load(target.read_text(encoding="utf-8"))
    raw["scenarios"][0]["titles"] = ["这是一个新写的标题用来检验训练数据"]
    target.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    texts = [e.text for e in cdata.project_examples(scenarios=tmp_path)]
    assert any("这是一个新写的标题用来检验训练数据" in t for t in texts)
    assert not any("这是一个新写的标题用来检验训练数据" in e.text for e in cdata.project_examples())


def test_no_generated_corpus_is_committed_and_make_depends_on_the_scenarios() -> None:
    assert not list((gen.REPO_ROOT / "routing" / "data" / "complaints").glob("*.csv"))
    makefile = (gen.REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    sources = next(line for line in makefile.splitlines() if line.startswith("CLASSIFIER_SOURCES"))
    assert "classifier_data/scenarios" in sources
