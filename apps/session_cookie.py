"""The app's sign-in as a signed cookie, so a page reload keeps the annotator signed in: the annotator's
name signed with itsdangerous (HMAC-SHA1 over the name and the time it was issued), valid for
`signin_days`.

The signing secret comes from `BOTKIT_COOKIE_SECRET`, else a random one generated once and kept in
`BOTKIT_HOME/cookie-secret` (mode 0600). Changing the passcode (or the secret) signs everyone out: the
passcode's hash is part of the signature's salt. Streamlit lets a page read cookies
(`st.context.cookies`, sent with the page's first request) but not set them, so the page sets one
with a line of JavaScript; the cookie is therefore not HttpOnly (a script injected into the page
could read it, as it could act as the annotator anyway). Signing out clears the browser's cookie; a
copy taken earlier stays valid until it expires or the passcode or secret changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "botkit_signin"
SECRET_ENV = "BOTKIT_COOKIE_SECRET"


def cookie_secret(home: Path) -> str:
    """The signing secret: the environment's, else the home's own (created 0600 on first use)."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = Path(home) / "cookie-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two app processes starting at once agree on one secret (the loser reads the winner's).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as sink:
        secret = secrets.token_urlsafe(32)
        sink.write(secret)
    return secret


def _serializer(home: Path, passcode: str) -> URLSafeTimedSerializer:
    salt = "botkit-signin-" + hashlib.sha256(passcode.encode()).hexdigest()[:16]
    return URLSafeTimedSerializer(cookie_secret(home), salt=salt)


def sign(name: str, *, home: Path, passcode: str = "") -> str:
    """The cookie value that says `name` signed in now."""
    return _serializer(home, passcode).dumps(name)


def signed_name(value: str | None, *, home: Path, passcode: str = "", max_days: float) -> str | None:
    """The annotator a cookie value names, or None when it is missing, tampered with or expired."""
    if not value:
        return None
    try:
        name = _serializer(home, passcode).loads(value, max_age=int(max_days * 86400))
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    return name if isinstance(name, str) and name.strip() else None


def set_cookie_script(value: str, max_days: float) -> str:
    """JavaScript that stores the cookie for the whole app and then removes itself from the page."""
    seconds = int(max_days * 86400)
    return _script(f"{COOKIE}=${{encodeURIComponent({json.dumps(value)})}}; Max-Age={seconds}")


def clear_cookie_script() -> str:
    return _script(f"{COOKIE}=; Max-Age=0")


def _script(cookie: str) -> str:
    # SameSite=Strict: another site cannot make the browser send it; Secure whenever the app is on https.
    return ("<script>(() => {"
            f"document.cookie = `{cookie}; Path=/; SameSite=Strict` + "
            "(location.protocol === 'https:' ? '; Secure' : '');"
            "document.currentScript?.remove();"
            "})();</script>")
