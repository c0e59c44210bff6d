"""The app's sign-in cookie (apps/session_cookie.py): who it names, and when it stops naming anyone."""

from __future__ import annotations

import time

from itsdangerous import TimestampSigner

from botkit.apps.session_cookie import cookie_secret, sign, signed_name


def test_a_signed_name_reads_back_until_it_expires(home, monkeypatch):
    value = sign("ana", home=home, passcode="kettle")
    assert signed_name(value, home=home, passcode="kettle", max_days=14) == "ana"

    later = int(time.time()) + 15 * 86400  # fifteen days on, by the signer's clock
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert signed_name(value, home=home, passcode="kettle", max_days=14) is None
    assert signed_name(value, home=home, passcode="kettle", max_days=30) == "ana"


def test_a_forged_tampered_or_old_passcode_cookie_names_nobody(home, tmp_path):
    value = sign("ana", home=home, passcode="kettle")
    payload, stamp, signature = value.split(".")
    forged = sign("boss", home=tmp_path, passcode="kettle")  # signed with another home's secret
    for bad in ("", "garbage", f"{sign('boss', home=home).split('.')[0]}.{stamp}.{signature}", forged):
        assert signed_name(bad, home=home, passcode="kettle", max_days=14) is None
    # A new passcode signs everyone out.
    assert signed_name(value, home=home, passcode="teapot", max_days=14) is None


def test_the_secret_is_kept_private_in_the_home_unless_the_environment_gives_one(home, monkeypatch):
    secret = cookie_secret(home)
    assert len(secret) >= 32 and cookie_secret(home) == secret
    assert (home / "cookie-secret").stat().st_mode & 0o777 == 0o600

    monkeypatch.setenv("BOTKIT_COOKIE_SECRET", "from-the-environment")
    assert cookie_secret(home) == "from-the-environment"
    value = sign("ana", home=home)
    monkeypatch.delenv("BOTKIT_COOKIE_SECRET")
    assert signed_name(value, home=home, max_days=14) is None
