"""Complaint classifier: output shape, scripts, the classify command's stdin handling, CSV
validation, train / install / rollback, and accuracy on a held-out slice of the project data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from fengqiao.commands.classify import classify_stream
from fengqiao.commands.train_classifier import run as train_run
from routing.understanding.classifier import data as cdata
from routing.understanding.classifier import load, train
from routing.understanding.classifier.model import MODEL_FILE, clear_cache
from routing.understanding.text import to_simplified

DISPUTE_CODES = set(cdata.dispute_types())
LEVEL1 = set(cdata.level1_categories())


@pytest.fixture(scope="module")
def heldout_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[cdata.Example]]:
    """Train on the project corpus minus every fifth row; return the model dir and the held-out rows.

    Trained with the fast path (no threshold cross-validation) so the module stays quick.
    """
    examples = cdata.project_examples()
    held_out = examples[::5]
    kept = [e for i, e in enumerate(examples) if i % 5]
    out = tmp_path_factory.mktemp("clf") / "model"
    bundle = train.fit_bundle(kept)
    out.mkdir()
    import joblib

    joblib.dump(bundle, out / MODEL_FILE)
    (out / "metadata.json").write_text(json.dumps({"low_confidence_threshold": 0.5}), encoding="utf-8")
    clear_cache()
    return out, held_out


def test_taxonomy_and_corpus_cover_all_categories() -> None:
    examples = cdata.project_examples()
    assert len(LEVEL1) == 15
    counts = {c: sum(e.category == c for e in examples) for c in LEVEL1}
    assert min(counts.values()) >= 60, counts
    assert {e.dispute_type for e in examples} == DISPUTE_CODES
    known = set(cdata.taxonomy())
    for e in examples:
        assert e.category in LEVEL1
        if e.level3:
            assert (e.category, e.level2, e.level3) in known


def test_corpus_has_traditional_share() -> None:
    examples = cdata.project_examples()
    traditional = sum(to_simplified(e.text) != e.text for e in examples)
    assert 0.08 <= traditional / len(examples) <= 0.2


def test_classify_output_shape(heldout_model: tuple[Path, list[cdata.Example]]) -> None:
    model = load(heldout_model[0])
    result = model.classify("小区物业乱收物业费，电梯坏了三个月也不修，业主多次投诉无果")
    assert result.category == "城乡建设"
    assert result.category_path[0] == result.category and len(result.category_path) == 3
    assert result.dispute_type in DISPUTE_CODES
    assert result.dispute_type_name == cdata.dispute_types()[result.dispute_type]
    assert 0.0 < result.confidence <= 1.0
    assert len(result.alternatives) == 3
    assert result.alternatives[0] == (result.category, result.confidence)
    probs = [p for _, p in result.alternatives]
    assert probs == sorted(probs, reverse=True)
    assert result.low_confidence == (result.confidence < model.threshold)
    assert load(heldout_model[0]) is model  # cached per folder


def test_traditional_equals_simplified(heldout_model: tuple[Path, list[cdata.Example]]) -> None:
    model = load(heldout_model[0])
    simplified = "公司拖欠我们三个月工资，老板电话也不接，请劳动监察大队帮忙讨薪"
    traditional = "公司拖欠我們三個月工資，老闆電話也不接，請勞動監察大隊幫忙討薪"
    a, b = model.classify(simplified), model.classify(traditional)
    assert a == b
    assert a.category == "劳动和社会保障"
    assert a.dispute_type == "labour_wage"


def test_classify_many_matches_classify(heldout_model: tuple[Path, list[cdata.Example]]) -> None:
    model = load(heldout_model[0])
    texts = ["网约车司机绕路多收费", "工厂晚上偷排废气，气味刺鼻", "孩子在学校被同学欺负"]
    assert model.classify_many(texts) == [model.classify(t) for t in texts]
    assert model.classify_many([]) == []


def test_heldout_accuracy_on_own_data(heldout_model: tuple[Path, list[cdata.Example]]) -> None:
    model_dir, held_out = heldout_model
    results = load(model_dir).classify_many([e.text for e in held_out])
    accuracy = sum(r.category == e.category for r, e in zip(results, held_out, strict=True)) / len(held_out)
    assert accuracy >= 0.8
    dispute_acc = sum(r.dispute_type == e.dispute_type for r, e in zip(results, held_out, strict=True)) / len(held_out)
    assert dispute_acc >= 0.8


def test_classify_stream_bad_lines(heldout_model: tuple[Path, list[cdata.Example]]) -> None:
    stdin = io.StringIO(
        '{"id": 1, "text": "楼下饭店油烟太大"}\n'
        "not json at all\n"
        '{"id": 3}\n'
        "\n"
        '{"id": 4, "text": "   "}\n'
        '["a list"]\n'
        '{"id": "x5", "text": "醫院亂收費"}\n'
    )
    stdout = io.StringIO()
    errors = classify_stream(stdin, stdout, heldout_model[0])
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert errors == 4
    assert len(lines) == 6
    assert lines[0]["id"] == 1 and lines[0]["category"] in LEVEL1
    assert set(lines[0]) >= {"id", "category", "category_path", "dispute_type", "confidence", "alternatives"}
    assert "error" in lines[1] and "category" not in lines[1]
    assert lines[2]["id"] == 3 and "error" in lines[2]
    assert lines[3]["id"] == 4 and "error" in lines[3]
    assert "error" in lines[4]
    assert lines[5]["id"] == "x5" and lines[5]["category"] == "卫生计生"
    assert "\\u" not in stdout.getvalue()  # ensure_ascii=False


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_csv_validation(tmp_path: Path) -> None:
    missing = _write_csv(tmp_path / "a.csv", ["title", "category"], [["标题", "城乡建设"]])
    with pytest.raises(cdata.CsvValidationError, match="detail"):
        cdata.read_agency_csv(missing)
    unknown = _write_csv(tmp_path / "b.csv", ["title", "detail", "category"], [["标题", "内容", "房地产"]])
    with pytest.raises(cdata.CsvValidationError, match="unknown category"):
        cdata.read_agency_csv(unknown)
    bad_l2 = _write_csv(
        tmp_path / "c.csv", ["title", "detail", "category", "level2"], [["标题", "内容", "城乡建设", "不存在"]]
    )
    with pytest.raises(cdata.CsvValidationError, match="level2"):
        cdata.read_agency_csv(bad_l2)
    empty = _write_csv(tmp_path / "d.csv", ["title", "detail", "category"], [])
    with pytest.raises(cdata.CsvValidationError, match="no data"):
        cdata.read_agency_csv(empty)
    with pytest.raises(cdata.CsvValidationError, match="not found"):
        cdata.read_agency_csv(tmp_path / "nope.csv")
    good = _write_csv(
        tmp_path / "e.csv",
        ["title", "detail", "category", "level2", "level3"],
        [["小区停车难", "车位太少", "城乡建设", "城市建设和市政管理", "小区管理"]],
    )
    rows = cdata.read_agency_csv(good)
    assert rows == [cdata.Example("小区停车难\n车位太少", "城乡建设", "城市建设和市政管理", "小区管理", "", "agency")]


def test_train_command_rejects_bad_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    bad = _write_csv(tmp_path / "bad.csv", ["title", "detail", "category"], [["t", "d", "没有这个类"]])
    args = argparse.Namespace(csv=bad, out=tmp_path / "m", rollback=False, variant=None, no_calibrate_threshold=True)
    assert train_run(args) == 2
    assert "unknown category" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_train_install_and_rollback(tmp_path: Path) -> None:
    agency = _write_csv(
        tmp_path / "agency.csv",
        ["title", "detail", "category"],
        [["舟山渔港冷库收费", "渔港冷库储存费用一年涨了三倍", "商贸旅游"]] * 3
        + [["海岛轮渡停航", "海岛轮渡停航没有提前通知", "交通运输"]] * 3,
    )
    first = train.train_model(tmp_path / "m1", measure=False)
    second = train.train_model(tmp_path / "m2", extra=cdata.read_agency_csv(agency), measure=False)
    assert first["agency_rows"] == 0 and second["agency_rows"] == 6
    assert (tmp_path / "m2" / MODEL_FILE).exists()
    active, previous = tmp_path / "active", tmp_path / "previous"
    train.install_active(tmp_path / "m1", active, previous)
    assert json.loads((active / "metadata.json").read_text())["agency_rows"] == 0
    train.install_active(tmp_path / "m2", active, previous)
    assert json.loads((active / "metadata.json").read_text())["agency_rows"] == 6
    assert json.loads((previous / "metadata.json").read_text())["agency_rows"] == 0
    train.rollback(active, previous)
    assert json.loads((active / "metadata.json").read_text())["agency_rows"] == 0
    assert json.loads((previous / "metadata.json").read_text())["agency_rows"] == 6
    assert load(active).classify("舟山渔港冷库储存费用涨价").category in LEVEL1
    with pytest.raises(FileNotFoundError):
        train.rollback(tmp_path / "a2", tmp_path / "p2")


def test_model_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from routing.understanding.classifier.model import SHIPPED_DIR, default_model_dir

    monkeypatch.setenv("FENGQIAO_CLASSIFIER_DIR", str(tmp_path))
    assert default_model_dir() == tmp_path
    monkeypatch.delenv("FENGQIAO_CLASSIFIER_DIR")
    assert default_model_dir() in (SHIPPED_DIR, SHIPPED_DIR.parents[1] / "var" / "classifier" / "active")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "empty")
