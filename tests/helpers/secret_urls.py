"""Source URLs that carry a password, in every shape a user may type one.

Each case names the texts that must never be shown, logged or stored: the
password as typed and as decoded, and, where an unencoded ``@`` would split it,
the pieces SQLAlchemy would take for a host or a database name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class SecretCase:
    id: str
    url: str
    secrets: tuple[str, ...]

    def leaked(self, text: str | bytes | None) -> list[str]:
        """The secrets found in ``text`` (bytes are searched as UTF-8)."""
        if not text:
            return []
        if isinstance(text, bytes):
            return [s for s in self.secrets if s.encode("utf-8") in text]
        return [s for s in self.secrets if s in text]


#: URLs that cannot open: SQLAlchemy cannot read them, the port is closed, or the scheme is not served.
FAILING = [
    SecretCase("port-not-a-number", "postgresql://postgres:S3cretPW!@127.0.0.1:notaport/test", ("S3cretPW!",)),
    SecretCase("port-out-of-range", "postgresql://postgres:Pw-0ut0fRange@127.0.0.1:99999/test", ("Pw-0ut0fRange",)),
    SecretCase("ipv6-bracket-unclosed", "postgresql://postgres:Br4cketPw@[::1/test", ("Br4cketPw",)),
    SecretCase("ipv6-bracket-closed-bad-port", "postgresql://postgres:V6pw-Secret@[::1]:x/test", ("V6pw-Secret",)),
    SecretCase("bad-percent-escape", "postgresql://postgres:Esc%zzSecret@127.0.0.1:1/test", ("Esc%zzSecret",)),
    SecretCase(
        "percent-encoded-at",
        "postgresql://postgres:Enc%40Secret%21@127.0.0.1:1/test",
        ("Enc%40Secret%21", "Enc@Secret!"),
    ),
    SecretCase(
        "raw-at-colon-slash",
        "postgresql://postgres:At@ho:st/Secret9@127.0.0.1:1/test",
        ("At@ho:st/Secret9", "ho:st/Secret9", "st/Secret9"),
    ),
    SecretCase(
        "raw-at-then-slash",
        "postgresql://postgres:Raw@host/Secret8@127.0.0.1:1/test",
        ("Raw@host/Secret8", "host/Secret8"),
    ),
    SecretCase("colon-and-slash", "postgresql://postgres:Col:on/Sl4sh@127.0.0.1:1/test", ("Col:on/Sl4sh",)),
    SecretCase(
        "space-and-quotes", "postgresql://postgres:Sp ace'Qu\"ote@127.0.0.1:bad/test", ("Sp ace'Qu\"ote", "ace'Qu")
    ),
    SecretCase("mysql-bad-port", "mysql://root:MyS3cret@127.0.0.1:port/test", ("MyS3cret",)),
    SecretCase("mysql-closed-port", "mysql://root:MyClosedPw@127.0.0.1:1/test", ("MyClosedPw",)),
    SecretCase("mysql-password-param", "mysql://root@127.0.0.1:1/test?password=QueryPw77", ("QueryPw77",)),
    SecretCase("sslpassword-param", "postgresql://postgres@127.0.0.1:1/test?sslpassword=SslKeyPass", ("SslKeyPass",)),
    SecretCase(
        "several-secret-params",
        "postgresql://postgres@127.0.0.1:1/test?passwd=Passwd01&pwd=Pwd0002&api_key=ApiKey03&token=Tok004"
        "&client_secret=Secret05&x=1",
        ("Passwd01", "Pwd0002", "ApiKey03", "Tok004", "Secret05"),
    ),
    SecretCase(
        "repeated-password-param",
        "postgresql://u@127.0.0.1:1/test?password=First11&password=Second22",
        ("First11", "Second22"),
    ),
    SecretCase(
        "plus-and-ampersand-in-query",
        "postgresql://u@127.0.0.1:1/test?password=Pl%2Bus%26Amp",
        ("Pl%2Bus%26Amp", "Pl+us&Amp"),
    ),
    SecretCase(
        "unparsable-with-query-secrets",
        "postgresql://u:UserPw99@h:x/db?api_key=KeyKey88&token=TokTok77",
        ("UserPw99", "KeyKey88", "TokTok77"),
    ),
    SecretCase("unsupported-scheme", "oracle://scott:TigerPw1@db/logs", ("TigerPw1",)),
    SecretCase("user-with-at", "postgresql://user@corp:CorpPw55@127.0.0.1:1/test", ("CorpPw55",)),
]


def opening_cases(spec: str) -> list[SecretCase]:
    """Cases that open: ``spec`` (a reachable server source) with passwords added.

    A trusting test server ignores the password; what matters is where the text goes.
    """
    url = make_url(spec)
    sep = "&" if url.query else "?"

    def with_password(password: str) -> str:
        return url.set(password=password).render_as_string(hide_password=False)

    return [
        SecretCase("userinfo-password", with_password("Open-S3cret"), ("Open-S3cret",)),
        SecretCase("userinfo-encoded", with_password("Enc@d:ed/Pw"), ("Enc@d:ed/Pw", "Enc%40d%3Aed%2FPw")),
        SecretCase("sslpassword", f"{spec}{sep}sslpassword=SslOpenPw", ("SslOpenPw",)),
        SecretCase(
            "userinfo-and-sslpassword",
            f"{with_password('BothPw-1')}{sep}sslpassword=BothSsl-2",
            ("BothPw-1", "BothSsl-2"),
        ),
    ]
