"""The complaint form: each answer validated, every repair handled, the summary confirmed.

Repairs (cancel, decline, ask why, correct, 都不是, a leader's day) are read here, inside the
form's validation, from the message's words (`routing.understanding.repair`) and from its NLU intent, so a
repair never becomes a slot value and never makes the form loop. The summary is the form's last
question (`summary_confirmed`): only an explicit confirmation of the summary shown last fills
it, and `action_file_case` files only then.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FORM_SLOTS, channel_of, log_failure, masked_phone, original_text
from actions.intake import ANALYSIS_SLOTS, analysis_slots, crisis_net, say_understood
from fengqiao.bootstrap import case_service
from routing.understanding import repair
from routing.understanding.choices import plain_choices
from routing.understanding.intake import (
    analyse,
    find_phone,
    is_no_party,
    place_label,
    resolve_place,
)
from routing.understanding.text import normalise

REPAIR_INTENTS = {"cancel", "decline", "ask_why", "correct", "none_of_these", "request_leader"}
SUMMARY = "summary_confirmed"
CONTACT_IN_CHAT = "本对话联系"
ANONYMOUS = "匿名"
CHAT_WORDS = ("在这里联系", "本对话", "这个对话", "对话里", "聊天", "在这联系", "网上联系", "这里联系我", "这里回复", "在这回复")
# "有进展就在这里告诉我" / "在这聊就行" / "网上回我": being answered in this chat, in other words
CHAT_PATTERN = re.compile(r"(?:这里|这儿|这边|在这|此处|网上|线上|窗口里?)(?:就|直接)?(?:聊|说|讲|告诉|通知|回|答复|联系|留言)")
ANON_WORDS = ("匿名",)
STATE_SLOTS = ("awaiting_change", "awaiting_more_detail", "summary_shown", SUMMARY, "repair_kind", "phone_attempts")
SHORT_FIELD = {"事由": "complaint_subject", "地点": "complaint_location", "对方": "complaint_respondent",
               "诉求": "complaint_demand", "电话": "contact_phone"}


def fingerprint(tracker: Tracker) -> str:
    """Hash of what the summary shows, so a confirmation is tied to the summary shown last."""
    parts = [str(tracker.get_slot(n) or "") for n in (*FORM_SLOTS, "category", "complaint_body")]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def wants_chat_contact(text: str) -> bool:
    """Tell whether a (normalised) message asks to be contacted in this chat instead of by phone."""
    return any(w in text for w in CHAT_WORDS) or CHAT_PATTERN.search(text) is not None


def contact_label(phone: str | None) -> str:
    """How the summary shows the contact: a masked number, in this chat, or anonymous."""
    if phone == CONTACT_IN_CHAT:
        return "不留电话，在本对话中联系"
    if phone == ANONYMOUS:
        return "匿名反映（不留联系方式）"
    return masked_phone(phone)


def intent_of(tracker: Tracker) -> tuple[str | None, float]:
    """The latest message's intent and confidence."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


FREE_TEXT = ("complaint_respondent", "complaint_demand")


def _correction_field(text: str) -> str | None:
    """The field a correction names or whose value it gives, if any."""
    found = repair.parse_correction(text)
    if found is None:
        return None
    return found.field or ValidateComplaintForm._field_by_value(found.value)


def looks_like_answer(slot: str, text: str, offered: tuple[str, ...] = ()) -> bool:
    """Tell whether `text` is plainly an answer to `slot` (a number for the phone, a known place,
    one of the problems offered as buttons — whatever NLU made of those words)."""
    if slot == "category_choice":
        return normalise(text).strip() in {normalise(o).strip() for o in offered}
    if slot == "contact_phone":
        return find_phone(text) is not None
    if slot == "complaint_location":
        return resolve_place(text) is not None
    return False


def offered_choices(tracker: Tracker) -> tuple[str, ...]:
    """The problems the category question offered as buttons (their titles)."""
    return tuple(o.split("｜")[0] for o in tracker.get_slot("category_alternatives") or [])


def kind_of(tracker: Tracker, requested: str) -> str | None:
    """Which repair the latest message is, from its words first, else its intent."""
    text = original_text(tracker)
    intent, confidence = intent_of(tracker)
    offered = offered_choices(tracker)
    if requested == "category_choice" and repair.is_none_of_these(text):
        return None  # 都不是 (with or without a sentence more): the category question handles it
    kind = repair.repair_kind(text)
    if kind == "correct" and requested != SUMMARY:
        found = repair.parse_correction(text)
        field = found.field if found else None
        if field is None and found is not None:
            field = ValidateComplaintForm._field_by_value(found.value)
        if field is None or field == requested:
            kind = None  # "应该是管公路的部门" answers the question asked; it corrects nothing
    if looks_like_answer(requested, text, offered) and kind != "correct":
        return None  # "行，电话是135…，先帮我登记" at the phone question is the number
    # A long message is a narrative or an answer unless NLU agrees it is a repair: "邻居说算了"
    # inside a story is not a cancellation. Corrections name a field and stay readable longer.
    size = len(normalise(text))
    if kind is not None and (size <= 20 or (kind == "correct" and size <= 40) or kind == intent):
        return kind
    if repair.opens_with_cancel(text) and not looks_like_answer(requested, text, offered):
        return "cancel"
    if size <= 12 and confidence >= 0.5 and not looks_like_answer(requested, text, offered):
        if intent == "withdraw":
            return "cancel"  # 撤掉 inside the form: nothing is filed yet, so it gives up this one
        if intent == "deny" and requested == "contact_phone" and not repair.is_explicit_confirmation(text):
            return "decline"  # "不给" / "不要" when asked for the number
    if intent in REPAIR_INTENTS and confidence >= 0.5 and not looks_like_answer(requested, text, offered):
        if intent == "none_of_these" and requested not in ("category_choice", SUMMARY):
            return None
        return intent
    return None


class ValidateComplaintForm(FormValidationAction):
    """Validate each answer of the complaint form and handle repairs without looping."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Handle a repair when the message is one, else validate the answer as usual."""
        requested = tracker.get_slot("requested_slot")
        intent, _ = intent_of(tracker)
        if requested and intent != "crisis":
            kind = kind_of(tracker, requested)
            text = original_text(tracker)
            if kind is None and requested not in tracker.slots_to_validate() \
                    and looks_like_answer(requested, text, offered_choices(tracker)):
                # NLU took the answer for a repair, so the mapping left it out: validate it anyway
                result = await getattr(self, f"validate_{requested}")(text, dispatcher, tracker, domain)
                events: list[EventType] = [SlotSet(k, v) for k, v in result.items()]
                tracker.add_slots(events)
                events.append(await self.next_requested_slot(dispatcher, tracker, domain)
                              or SlotSet("requested_slot", requested))
                return events
            if kind is None and intent in REPAIR_INTENTS | {"request_human"} \
                    and requested not in tracker.slots_to_validate():
                kind = intent  # the mapping left the answer out: never ignore the message
                if kind == "correct" and requested in FREE_TEXT and repair.parse_correction(text) is None:
                    kind = "answer"  # "应该是管公路的部门" at the respondent question: the answer
            if kind == "answer" or (kind == "correct" and requested in FREE_TEXT
                                    and _correction_field(text) in (None, requested)):
                result = await getattr(self, f"validate_{requested}")(text, dispatcher, tracker, domain)
                events = [SlotSet(k, v) for k, v in result.items()]
                tracker.add_slots(events)
                events.append(await self.next_requested_slot(dispatcher, tracker, domain)
                              or SlotSet("requested_slot", requested))
                return events
            if kind == "none_of_these" and requested == "category_choice":
                kind = None
            if kind is not None:
                events = self.handle_repair(kind, requested, dispatcher, tracker)
                if kind != "cancel":
                    tracker.add_slots(events)
                    next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
                    events.append(next_slot or SlotSet("requested_slot", requested))
                return events
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Ask for the category first and only when unsure; the summary comes last."""
        rest = [n for n in domain_slots if n not in ("category_choice", SUMMARY)]
        if tracker.get_slot("category_low_confidence") and tracker.get_slot("category_alternatives"):
            rest = ["category_choice", *rest]
        return [*rest, SUMMARY]

    # --- repairs -----------------------------------------------------------------------------

    def handle_repair(
        self, kind: str, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """Answer a repair; always set a slot so the form re-asks instead of being rejected."""
        handler = {
            "cancel": self._cancel,
            "decline": self._decline,
            "ask_why": self._ask_why,
            "correct": self._correct,
            "request_leader": self._leader,
            "request_human": self._human,
            "none_of_these": self._decline,
        }[kind]
        events = handler(requested, dispatcher, tracker)
        return [SlotSet(requested, None) if requested != SUMMARY else SlotSet(SUMMARY, None),
                *events, SlotSet("repair_kind", kind)]

    def _cancel(self, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        dispatcher.utter_message(response="utter_complaint_cancelled")
        cleared = [*FORM_SLOTS, *ANALYSIS_SLOTS, *STATE_SLOTS, "wishes", "complaint_body"]
        return [SlotSet(n, None) for n in cleared if n != "repair_kind"] + [
            SlotSet("pending_action", None), SlotSet("requested_slot", None), ActiveLoop(None),
        ]

    def _human(self, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        try:
            case_service().request_human(tracker.sender_id, channel_of(tracker), tracker.sender_id)
        except Exception as exc:  # noqa: BLE001 - the answer must not depend on the store
            log_failure("request_human in form", exc, sender=tracker.sender_id)
        dispatcher.utter_message(response="utter_human_requested_in_form")
        return []

    def _ask_why(self, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        field = repair.named_field(original_text(tracker)) or requested
        if field == SUMMARY or field not in (*FORM_SLOTS, "category_choice"):
            field = requested
        dispatcher.utter_message(response=f"utter_why_{field}")
        return []

    def _decline(self, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        if requested == "contact_phone":
            if wants_chat_contact(normalise(original_text(tracker))):
                return [SlotSet("contact_phone", CONTACT_IN_CHAT), SlotSet("phone_attempts", 0)]
            allowed = repair.anonymity_allowed(tracker.get_slot("dispute_type"))
            buttons = [{"title": "在本对话里联系我", "payload": "在本对话里联系我"}]
            if allowed:
                buttons.append({"title": "匿名反映", "payload": "匿名反映"})
            buttons.append({"title": "我还是留电话", "payload": "我留电话"})
            name = "utter_phone_declined_anonymous_ok" if allowed else "utter_phone_declined"
            dispatcher.utter_message(response=name, buttons=buttons)
            return [SlotSet("phone_attempts", 0)]
        if requested == "complaint_respondent":
            dispatcher.utter_message(response="utter_respondent_declined")
            return [SlotSet("complaint_respondent", "未说明")]
        if requested == "complaint_demand":
            dispatcher.utter_message(response="utter_demand_declined")
            return [SlotSet("complaint_demand", "请依法依规处理")]
        if requested == "category_choice":
            return [SlotSet("category_choice", "未确定"), SlotSet("category_low_confidence", False)]
        if requested == SUMMARY:
            return self._open_change(dispatcher)
        dispatcher.utter_message(response=f"utter_declined_{requested}")
        return []

    def _leader(self, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        dispatcher.utter_message(response="utter_leader_noted")
        wishes = set(tracker.get_slot("wishes") or []) | {"leader"}
        return [SlotSet("wishes", sorted(wishes))]

    def _open_change(self, dispatcher: CollectingDispatcher) -> list[EventType]:
        # The summary question (action_ask_summary_confirmed) asks what to change.
        return [SlotSet("awaiting_change", True)]

    def _correct(self, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        text = original_text(tracker)
        found = repair.parse_correction(text)
        if found is None:
            return self._open_change(dispatcher) if requested == SUMMARY else self._say_how_to_correct(dispatcher)
        field = found.field or self._field_by_value(found.value)
        if field is None:
            return self._open_change(dispatcher) if requested == SUMMARY else self._say_how_to_correct(dispatcher)
        checked = self._check(field, found.value)
        if checked is None:
            dispatcher.utter_message(response=f"utter_invalid_{'phone' if field == 'contact_phone' else 'location'}")
            return [SlotSet("awaiting_change", False)]
        dispatcher.utter_message(response="utter_corrected", field=repair.FIELD_LABELS[field], value=contact_label(
            checked[field]) if field == "contact_phone" else checked[field])
        return [SlotSet(n, v) for n, v in checked.items()] + [SlotSet("awaiting_change", False)]

    def _say_how_to_correct(self, dispatcher: CollectingDispatcher) -> list[EventType]:
        dispatcher.utter_message(response="utter_how_to_correct")
        return []

    @staticmethod
    def _field_by_value(value: str) -> str | None:
        if find_phone(value):
            return "contact_phone"
        if resolve_place(value):
            return "complaint_location"
        return None

    @staticmethod
    def _check(field: str, value: str) -> dict[str, Any] | None:
        """Validate a corrected value as the field's own answer would be."""
        if field == "contact_phone":
            phone = find_phone(value)
            return {"contact_phone": phone} if phone else None
        if field == "complaint_location":
            match = resolve_place(value)
            if match is None:
                return None
            return {"complaint_location": place_label(match, value), "location_code": match.division.code}
        if field == "complaint_respondent":
            return {"complaint_respondent": "无明确对方" if is_no_party(value) else normalise(value)[:200]}
        return {field: normalise(value)[:500]}

    # --- ordinary answers ----------------------------------------------------------------------

    async def validate_category_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the problem the citizen picked; 都不是 asks for one more sentence and reclassifies."""
        answer = normalise(str(value or ""))
        options = list(tracker.get_slot("category_alternatives") or [])
        if tracker.get_slot("awaiting_more_detail"):
            return self._reclassify(answer, dispatcher, tracker)
        picked = next((o for o in options if o.split("｜")[0] in answer), None)
        if picked is None and (repair.is_none_of_these(answer) or intent_of(tracker)[0] == "none_of_these"):
            more = repair.after_none_of_these(answer)
            if len(more) >= 6:  # "都不是，我再说说：是村里修路……" — the sentence is already here
                return self._reclassify(more, dispatcher, tracker)
            return {"category_choice": None, "awaiting_more_detail": True}
        if picked is None:
            dispatcher.utter_message(response="utter_invalid_category")
            return {"category_choice": None}
        label, _, category = picked.partition("｜")
        return {"category_choice": label, "category": category or label, "category_low_confidence": False}

    def _reclassify(self, answer: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        narrative = f"{tracker.get_slot('narrative') or ''} {answer}".strip()
        result = analyse(narrative)
        rejected = set(tracker.get_slot("category_alternatives") or [])
        slots: dict[str, Any] = {"narrative": narrative, "awaiting_more_detail": False,
                                 "dispute_type": result.dispute_type}
        if tracker.get_slot("complaint_subject"):
            slots["complaint_subject"] = narrative
        if not result.low_confidence:
            say_understood(dispatcher, result)
            return {**slots, "category_choice": result.category, "category": result.category,
                    "category_low_confidence": False}
        fresh = [c for c in plain_choices(narrative) if c not in rejected]
        if not fresh or tracker.get_slot("repair_kind") == "reclassified":
            return {**slots, "category_choice": "未确定", "category": result.category, "category_low_confidence": False}
        return {**slots, "category_choice": None, "category_alternatives": fresh, "repair_kind": "reclassified"}

    async def validate_complaint_subject(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a narrative of a few words and pre-fill what it contains."""
        text = original_text(tracker) or str(value or "")
        if tracker.get_slot("requested_slot") != "complaint_subject":
            text = str(value or "")
        if len(normalise(text)) < 4:
            dispatcher.utter_message(response="utter_invalid_answer")
            return {"complaint_subject": None}
        result = analyse(text)
        crisis_net(dispatcher, tracker, result)
        say_understood(dispatcher, result)
        slots = analysis_slots(result)
        for name in FORM_SLOTS:
            if name != "complaint_subject" and tracker.get_slot(name):
                slots.pop(name, None)  # keep answers already given
        slots["wishes"] = sorted(set(tracker.get_slot("wishes") or []) | set(repair.wishes_in(text)))
        return slots

    async def validate_complaint_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a place only when it resolves to a known administrative division."""
        match = resolve_place(str(value or ""))
        if match is None:
            dispatcher.utter_message(response="utter_invalid_location")
            return {"complaint_location": None}
        return {"complaint_location": place_label(match, str(value)), "location_code": match.division.code}

    async def validate_complaint_respondent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept any named party or 'none'; a bare phone number is taken as the phone."""
        answer = normalise(str(value or ""))
        if is_no_party(answer):
            return {"complaint_respondent": "无明确对方"}
        early = self._phone_given_early(answer, "complaint_respondent", tracker)
        if early is not None:
            return early
        if not answer:
            dispatcher.utter_message(response="utter_invalid_answer")
            return {"complaint_respondent": None}
        return {"complaint_respondent": answer[:200]}

    async def validate_complaint_demand(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a demand of two characters or more; a phone number given here is the phone."""
        answer = normalise(str(value or ""))
        early = self._phone_given_early(answer, "complaint_demand", tracker)
        if early is not None:
            return early
        if len(answer) < 2:
            dispatcher.utter_message(response="utter_invalid_answer")
            return {"complaint_demand": None}
        return {"complaint_demand": answer[:500]}

    @staticmethod
    def _phone_given_early(answer: str, slot: str, tracker: Tracker) -> dict[str, Any] | None:
        """A later question answered early: a phone number (alone or with words) fills the phone."""
        if tracker.get_slot("requested_slot") != slot:
            return None
        phone = find_phone(answer)
        if phone is None:
            return None
        rest = answer.replace(phone, "")
        for word in ("我的电话是", "我的电话", "电话是", "电话", "手机号", "手机", "号码是", "号码", "联系我", "打"):
            rest = rest.replace(word, "")
        rest = rest.strip(" ，,。：:")
        return {"contact_phone": phone, slot: rest[:500] if len(rest) >= 2 else None}

    async def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a number, being contacted in this chat, or anonymity where the matter allows it."""
        text = normalise(str(value or ""))
        if str(value) in (CONTACT_IN_CHAT, ANONYMOUS):
            return {"contact_phone": str(value)}
        phone = find_phone(text)
        if phone is not None:
            return {"contact_phone": phone}
        if wants_chat_contact(text):
            return {"contact_phone": CONTACT_IN_CHAT}
        if any(w in text for w in ANON_WORDS):
            if repair.anonymity_allowed(tracker.get_slot("dispute_type")):
                return {"contact_phone": ANONYMOUS}
            dispatcher.utter_message(response="utter_anonymity_not_possible")
            return {"contact_phone": None}
        if "留电话" in text or "我留" in text:
            return {"contact_phone": None}  # the form asks for the number again
        attempts = int(tracker.get_slot("phone_attempts") or 0) + 1
        if attempts >= 2:
            return {"contact_phone": None, "phone_attempts": 0, **self._offer_alternatives(dispatcher, tracker)}
        dispatcher.utter_message(response="utter_invalid_phone")
        return {"contact_phone": None, "phone_attempts": attempts}

    def _offer_alternatives(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        self._decline("contact_phone", dispatcher, tracker)
        return {}

    async def validate_summary_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Only an explicit confirmation of the summary shown last fills this slot."""
        text = original_text(tracker) or str(value or "")
        if tracker.get_slot("awaiting_change"):
            return self._change_answer(text, dispatcher, tracker)
        if repair.is_explicit_confirmation(text) and tracker.get_slot("summary_shown") == fingerprint(tracker):
            return {SUMMARY: tracker.get_slot("summary_shown")}
        if repair.wants_change(text):
            return {SUMMARY: None, **dict(_slot_pairs(self._open_change(dispatcher)))}
        if repair.is_explicit_confirmation(text):
            return {SUMMARY: None}  # the data changed since it was shown: show it again
        dispatcher.utter_message(response="utter_summary_not_confirmed")
        return {SUMMARY: None}

    def _change_answer(self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """After "修改": a field name asks that question again; a value corrects it."""
        plain = normalise(text).strip(" 。")
        field = SHORT_FIELD.get(plain) or repair.named_field(plain)
        correction = repair.parse_correction(text)
        if correction is not None:
            return {SUMMARY: None, **dict(_slot_pairs(self._correct(SUMMARY, dispatcher, tracker)))}
        if field is not None:
            extra = {"location_code": None} if field == "complaint_location" else {}
            return {SUMMARY: None, field: None, "awaiting_change": False, **extra}
        return {SUMMARY: None, "awaiting_change": False}


def _slot_pairs(events: list[EventType]) -> list[tuple[str, Any]]:
    return [(e["name"], e["value"]) for e in events if e.get("event") == "slot"]


class ActionAskSummaryConfirmed(Action):
    """Show the summary (or, after 修改, ask what to change) as the form's last question."""

    def name(self) -> str:
        return "action_ask_summary_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Utter the summary with the phone masked and remember which summary was shown."""
        if tracker.get_slot("awaiting_change"):
            buttons = [{"title": label, "payload": label} for label in SHORT_FIELD]
            dispatcher.utter_message(response="utter_ask_what_to_change", buttons=buttons)
            return []
        subject = tracker.get_slot("complaint_subject") or ""
        dispatcher.utter_message(
            response="utter_summary",
            complaint_subject=subject if len(subject) <= 120 else subject[:118] + "……",
            complaint_location=tracker.get_slot("complaint_location") or "（未提供）",
            complaint_respondent=tracker.get_slot("complaint_respondent") or "（未提供）",
            complaint_demand=tracker.get_slot("complaint_demand") or "（未提供）",
            complaint_body=tracker.get_slot("complaint_body") or "由受理单位按职责确定",
            masked_phone=contact_label(tracker.get_slot("contact_phone")),
            category=tracker.get_slot("category") or "待分类",
        )
        return [SlotSet("summary_shown", fingerprint(tracker)), SlotSet("pending_action", "file_case")]


class ActionAskCategoryChoice(Action):
    """Offer the two or three most likely problems in plain words, plus 都不是，我再说说."""

    def name(self) -> str:
        return "action_ask_category_choice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Ask which problem fits, or for one more sentence after 都不是."""
        if tracker.get_slot("awaiting_more_detail"):
            dispatcher.utter_message(response="utter_tell_more")
            return []
        options = list(tracker.get_slot("category_alternatives") or [])
        buttons = [{"title": o.split("｜")[0], "payload": o.split("｜")[0]} for o in options]
        buttons.append({"title": "都不是，我再说说", "payload": "都不是，我再说说"})
        dispatcher.utter_message(response="utter_category_question", buttons=buttons)
        return []


class ActionCancelIntake(Action):
    """Outside the form: 算了 / 不办了 drops whatever was pending and files nothing."""

    def name(self) -> str:
        return "action_cancel_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Clear the pending step and the collected answers; say nothing will be filed."""
        pending = tracker.get_slot("pending_action")
        had_draft = pending == "file_case" or any(tracker.get_slot(n) for n in FORM_SLOTS)
        dispatcher.utter_message(response="utter_complaint_cancelled" if had_draft else "utter_nothing_to_cancel")
        cleared = [*FORM_SLOTS, *ANALYSIS_SLOTS, *STATE_SLOTS, "wishes", "complaint_body"]
        return [SlotSet(n, None) for n in cleared] + [SlotSet("pending_action", None)]
