"""Field encryption: round trip, bound to its column, key ids, blind index, key-file reload."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.privacy.crypto import KeyMaterial, KeyRing, kid_of, new_key, write_key_file
from routing.privacy.fields import phone_index


def ring(kid: str = "k1", index: bytes | None = None) -> KeyRing:
    return KeyRing(KeyMaterial(active=kid, keys={kid: new_key()}, index=index or new_key()))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_every_text_round_trips_and_never_shows_in_clear(plain: str) -> None:
    keys = ring()
    stored = keys.encrypt(plain, "cases.narrative_original")
    assert keys.decrypt(stored, "cases.narrative_original") == plain
    assert kid_of(stored) == "k1"
    if len(plain) >= 4:
        assert plain not in stored


def test_a_value_moved_to_another_column_or_tampered_does_not_decrypt() -> None:
    keys = ring()
    stored = keys.encrypt("13812345678", "cases.contact_phone")
    with pytest.raises(InvalidTag):
        keys.decrypt(stored, "cases.demand")
    flipped = stored[:-3] + ("A" if stored[-3] != "A" else "B") + stored[-2:]
    with pytest.raises((InvalidTag, ValueError)):
        keys.decrypt(flipped, "cases.contact_phone")


def test_the_same_value_encrypts_differently_each_time_but_indexes_the_same() -> None:
    keys = ring()
    a, b = keys.encrypt("13812345678", "c.p"), keys.encrypt("13812345678", "c.p")
    assert a != b
    assert keys.blind_index("13812345678", "phone") == keys.blind_index("13812345678", "phone")
    assert ring().blind_index("13812345678", "phone") != keys.blind_index("13812345678", "phone")


def test_phone_index_normalises_spacing_and_country_code(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FENGQIAO_DATA_KEY_FILE", str(tmp_path / "keys.json"))
    from routing.privacy import crypto

    old = crypto.use_keyring(KeyRing())
    try:
        assert phone_index("138 1234 5678") == phone_index("+86 138-1234-5678") == phone_index("13812345678")
        assert phone_index("13812345679") != phone_index("13812345678")
        assert phone_index(None) is None and phone_index("12") is None
        assert oct(os.stat(tmp_path / "keys.json").st_mode & 0o777) == "0o600"
    finally:
        crypto.use_keyring(old)


def test_a_process_reads_a_rotated_key_file_when_it_meets_the_new_key(tmp_path, monkeypatch) -> None:
    path = tmp_path / "keys.json"
    monkeypatch.setenv("FENGQIAO_DATA_KEY_FILE", str(path))
    monkeypatch.delenv("FENGQIAO_DATA_KEYS", raising=False)
    reader, writer = KeyRing(), KeyRing()
    old_value = reader.encrypt("张三", "t.c")
    first = KeyMaterial.from_json(path.read_text())
    rotated = KeyMaterial(active="k2", keys={**first.keys, "k2": new_key()}, index=first.index)
    write_key_file(path, rotated)
    new_value = writer.encrypt("李四", "t.c")
    assert kid_of(new_value) == "k2"
    assert reader.decrypt(new_value, "t.c") == "李四"  # unknown key id → the file is read again
    assert writer.decrypt(old_value, "t.c") == "张三"  # old keys are kept for old values


def test_keys_from_the_environment(monkeypatch) -> None:
    import base64

    b = base64.b64encode
    monkeypatch.setenv("FENGQIAO_DATA_KEYS", f"new:{b(new_key()).decode()},old:{b(new_key()).decode()},"
                       f"index:{b(new_key()).decode()}")
    keys = KeyRing()
    assert keys.material().active == "new"
    assert kid_of(keys.encrypt("x", "t.c")) == "new"
