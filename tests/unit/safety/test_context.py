"""The second stage: the frame a risky word is said in (routing/understanding/safety/context.py)."""

from __future__ import annotations

from routing.understanding.safety import check, context


def test_frames_are_found_in_a_sentence() -> None:
    assert context.window_frames("去年他从梯子上摔下来，幸好人没事") >= {"past", "settled"}
    assert context.window_frames("万一哪天有小孩掉进去就麻烦了") == {"hazard"}
    assert context.window_frames("网上疯传有人在桥上出事") == {"report"}
    assert context.window_frames("商家说过了保修期不给退款") == {"consumer"}
    assert context.window_frames("今晚我就把药全吃了") == frozenset()


def test_the_question_counts_only_from_the_finding_on() -> None:
    text = "想问一下押金能不能退。我已经把炭买好了"
    assert context.message_frames(text, "我已经把炭买好了") == frozenset()
    assert context.message_frames(text, "想问一下押金能不能退") == {"ask"}


def test_frames_raise_the_needed_score_but_never_above_the_cap() -> None:
    assert context.needed(0.5, frozenset()) == 0.5
    assert context.needed(0.5, frozenset({"past"})) > 0.5
    assert context.needed(0.5, frozenset(context.WEIGHTS)) == context.CAP


def test_a_settled_incident_with_a_question_is_not_an_alarm() -> None:
    text = ("上个月我家老人在小区门口被电动车撞了一下，腿上擦破点皮，去医院看过，现在已经好了。"
            "骑车的人当时留了电话，后来一直不接。想问一下这种情况能不能找物业调监控，医药费找谁要？")
    assert not check(text).danger


def test_danger_after_a_question_is_still_danger() -> None:
    text = ("想问一下欠薪的事找哪个部门。老板拖了我八个月工资，我找了好多次都没用，"
            "我现在就站在厂房顶上，下面的人都在看，我真的不想活了")
    verdict = check(text)
    assert verdict.danger and verdict.kind == "self_harm"


def test_a_clear_danger_sentence_is_not_talked_away_by_a_past_word() -> None:
    verdict = check("去年他就打过我一次，现在他又拿着菜刀在砸我家的门，我躲在卫生间里")
    assert verdict.danger and verdict.kind == "violence_now"


def test_the_dialogue_s_own_short_turns_do_not_alarm() -> None:
    from routing.understanding.safety import model

    short = [t for t in model.dialogue_sentences() if len(t) <= 8]
    assert len(short) > 500
    assert [t for t in short if check(t).danger] == []
    for turn in ("在不在", "筭了", "我不想留电话", "在本对话里联系我", "不想说"):
        assert not check(turn).danger, turn


def test_a_lawful_step_frames_only_the_model_s_own_finding() -> None:
    sentence = "我已经跟记者联系好了，明天就把视频发到网上"
    assert "recourse" in context.sentence_frames(sentence)
    assert "recourse" not in context.window_frames(sentence)
    assert context.needed(0.5, context.sentence_frames(sentence)) > 0.5
    assert "recourse" not in context.sentence_frames("我已经把药买好了，今晚就全吃了")
