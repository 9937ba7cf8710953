"""Flags, emergency numbers, failure towards danger, determinism and speed."""

from __future__ import annotations

import time

import pytest

from routing.understanding.safety import check, model
from routing.understanding.safety.verdict import KINDS, DangerVerdict, numbers_for


@pytest.mark.parametrize(
    "text",
    [
        "我爸这几天总说活着没意思，昨天还问我绳子放在哪里。",
        "我哥说要去跳江，现在电话打不通。",
        "隔壁的大妈说不想拖累儿女，把存折都交给了她女儿。",
        "我同学在宿舍里说她吃了一整板安眠药。",
    ],
)
def test_someone_else_in_danger_is_third_party(text: str) -> None:
    verdict = check(text)
    assert verdict.danger and verdict.third_party, (text, verdict)


@pytest.mark.parametrize(
    "text",
    ["我真的不想活了。", "我已经站在楼顶了。", "我老公在打我，我躲在厕所里。"],
)
def test_the_writer_in_danger_is_not_third_party(text: str) -> None:
    verdict = check(text)
    assert verdict.danger and not verdict.third_party, (text, verdict)


def test_means_at_hand_is_imminent_and_calls_110_first() -> None:
    verdict = check("农药就在我手边，我现在就喝。")
    assert verdict.kind == "self_harm" and verdict.imminent
    assert verdict.numbers == ("110", "120", "12356")


def test_intent_without_means_names_the_psychological_line_first() -> None:
    verdict = check("我最近老是想自杀。")
    assert verdict.kind == "self_harm" and not verdict.imminent
    assert verdict.numbers[0] == "12356"


def test_numbers_order_per_kind() -> None:
    assert numbers_for(("violence_now",))[0] == "110"
    assert numbers_for(("harm_others",))[0] == "110"
    assert numbers_for(("held",))[0] == "110"
    assert numbers_for(("medical", "self_harm"))[0] == "120"
    assert numbers_for(("self_harm",)) == ("12356", "110", "120")
    assert numbers_for(()) == ("110", "120", "12356")


def test_kinds_come_in_priority_order() -> None:
    verdict = check("我刚吞了半瓶安眠药，不想活了，现在头很晕喘不上气。")
    assert verdict.kinds == tuple(k for k in KINDS if k in verdict.kinds)
    assert verdict.kinds[0] == "medical" and "self_harm" in verdict.kinds


def test_a_failing_detector_gives_a_danger_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> dict:
        raise RuntimeError("model file damaged")

    monkeypatch.setattr(model, "load", broken)
    verdict = check("物业费太贵了")
    assert verdict.danger and verdict.failed
    assert verdict.error == "RuntimeError"
    assert verdict.numbers[0] == "110"


def test_a_damaged_model_file_is_retrained(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / model.MODEL_FILE).write_bytes(b"not a model")
    bundle = model._load_or_train(tmp_path)
    assert bundle["fingerprint"] == model.fingerprint()
    assert model.score(bundle, ["我不想活了"])[0] > model.score(bundle, ["物业费太贵了"])[0]


def test_check_never_raises_on_odd_input() -> None:
    for text in ("", "   ", "\u200b\u200b", "😀" * 50, "a" * 5000, None):
        verdict = check(text)  # type: ignore[arg-type]
        assert isinstance(verdict, DangerVerdict)
        assert not verdict.failed


def test_same_message_same_verdict() -> None:
    text = "工钱三年没拿到，我已经买好了木炭。"
    assert check(text) == check(text)


def test_training_is_deterministic() -> None:
    data = model.training_set(model.corpus_rows()[::7], ["今天天气不错", "物业不给修电梯"])
    first, second = model.fit(data), model.fit(data)
    probe = ["我想结束自己", "小区停车难"]
    assert (model.score(first, probe) == model.score(second, probe))


def test_plain_python_scoring_equals_the_fitted_pipeline() -> None:
    bundle = model.fit(model.training_set(model.corpus_rows()[::5], ["小区停车难", "物业不修电梯"]))
    sentences = ["我已经买好了农药今晚就喝", "小区电梯坏了三个月没人修", "我爸在工地摔下来了", "x"]
    expected = bundle["danger"].predict_proba(bundle["vectorizer"].transform(sentences))[:, 1]
    for sentence, want in zip(sentences, expected, strict=True):
        assert abs(model.sentence_probability(bundle, sentence) - want) < 1e-9


def test_a_long_message_is_checked_within_budget() -> None:
    text = ("我在厂里干了五年，老板一直拖欠工资，去劳动监察大队反映了好几次都没有结果。" * 6)[:400]
    check(text)
    timings = []
    for _ in range(30):
        started = time.process_time()  # CPU time: the machine running the tests may be busy
        check(text)
        timings.append(time.process_time() - started)
    timings.sort()
    # 5 ms is the target (measured in bench/crisis/README.md); twice that here against flakiness.
    assert timings[int(0.95 * len(timings)) - 1] < 0.010


def test_the_stored_model_gives_the_kind_the_fitted_one_gives() -> None:
    data = model.training_set(model.corpus_rows()[::3], ["小区停车难", "物业不修电梯"])
    fitted = model.fit(data)
    stored = model.compact(fitted)
    for sentence in ["我爸从楼上摔下来叫不醒", "我被关在厂里出不去", "他正在打我", "我不想活了"]:
        assert model.guess_kind(stored, sentence) == model.guess_kind(fitted, sentence)
        assert abs(model.sentence_probability(stored, sentence) - model.sentence_probability(fitted, sentence)) < 1e-12


def test_an_unreadable_model_in_the_operator_set_folder_fails_the_check(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / model.MODEL_FILE).write_bytes(b"not a model")
    monkeypatch.setenv(model.ENV_MODEL_DIR, str(tmp_path))
    model.clear_cache()
    try:
        verdict = check("村口的路灯坏了")
    finally:
        model.clear_cache()
    assert verdict.danger and verdict.failed
    assert (tmp_path / model.MODEL_FILE).read_bytes() == b"not a model"  # not silently replaced


def test_the_corpus_is_built_from_every_source_in_its_folder() -> None:
    from routing.understanding.safety.data.corpus import build

    sources = {p.name for p in build.source_files()}
    written = {p.name for p in build.HERE.iterdir() if p.suffix in (".tsv", ".txt")}
    assert written <= sources, written - sources  # a new source file cannot be left out
    assert build.build() == build.rows()
