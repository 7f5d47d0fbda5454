"""What every Python compatibility script shares: the run's settings from stdin, a guard that keeps
every connection on loopback, the credential under test, and one JSON document of results on stdout.

The scripts use the official SDK unmodified (Debian's python3-azure, see scripts/ensure-python-sdk.sh);
the test (test/compat/python-sdk.test.ts) asserts on what they print.
"""

import ipaddress
import json
import socket
import sys
import time
from urllib.parse import urlparse

from azure.core.credentials import AccessToken

_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    # Every connection starts with a name lookup, so refusing here covers requests, urllib3 and MSAL
    # alike: a regression that reaches for the cloud (instance discovery, IMDS) fails loudly instead
    # of sending traffic or a token anywhere else.
    name = host.decode() if isinstance(host, bytes) else host
    # Names under .localhost are loopback (RFC 6761 section 6.3), as systemd-resolved and browsers
    # resolve them; glibc alone does not, and the vault's own host name (<vault>.vault.localhost)
    # is what challenge verification needs.
    lookup = "localhost" if isinstance(name, str) and name.lower().endswith(".localhost") else host
    results = _real_getaddrinfo(lookup, *args, **kwargs)
    for *_, address in results:
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise ConnectionRefusedError(f"compat guard: refused a connection to non-loopback host {host}")
    return results


socket.getaddrinfo = _loopback_only


class StaticTokenCredential:
    """A bearer token obtained elsewhere (here: by the test, from the development identity provider),
    handed to the SDK through the TokenCredential protocol, as a caller with its own token source does.
    It records the scopes the SDK asked for, so the test can check the challenge was followed."""

    def __init__(self, token: str, expires_on: int):
        self._token = token
        self._expires_on = expires_on
        self.scopes_asked: list = []

    def get_token(self, *scopes, **kwargs):
        self.scopes_asked.append(list(scopes))
        return AccessToken(self._token, self._expires_on)


def read_settings() -> dict:
    settings = json.load(sys.stdin)
    for url in [settings["vaultUrl"], settings["authorityHost"]]:
        host = urlparse(url).hostname or ""
        if host != "localhost" and not host.endswith(".localhost") and not ipaddress.ip_address(host).is_loopback:
            raise SystemExit(f"compat: refusing to talk to non-loopback {url}")
    return settings


def credential_for(settings: dict):
    kind = settings["credential"]
    # Imported here so that a missing azure-identity shows as the import error it is.
    from azure.identity import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential

    # The development identity provider is its own authority: instance discovery would ask
    # login.microsoftonline.com about it (azure-identity 1.13 names the switch `instance_discovery`).
    common = {"authority": settings["authorityHost"], "instance_discovery": False}
    if kind == "secret":
        return ClientSecretCredential(settings["tenantId"], settings["clientId"], settings["clientSecret"], **common)
    if kind == "certificate":
        return CertificateCredential(
            settings["tenantId"], settings["clientId"], certificate_path=settings["certificateFile"], **common
        )
    if kind == "managedIdentity":
        # The local stack's App Service-style endpoint: the test passes IDENTITY_ENDPOINT and
        # IDENTITY_HEADER in the environment, as App Service and Functions do.
        return ManagedIdentityCredential()
    if kind == "token":
        return StaticTokenCredential(settings["token"], int(time.time()) + 3000)
    raise SystemExit(f"compat: unknown credential kind {kind!r}")


def client_options() -> dict:
    # Challenge verification stays on, as users run it: the SDK requires the vault URL's host *and
    # port* to end with "." + the challenge resource's, which Coffer's challenge satisfies for the
    # vault's own host name on its port (settings["vaultUrl"] is the stack's vaultHostUrl).
    return {"retry_total": 0}


def error_of(call) -> dict:
    """Runs a call expected to fail and returns what the SDK made of the service's answer."""
    from azure.core.exceptions import HttpResponseError

    try:
        call()
    except HttpResponseError as error:
        return {"type": type(error).__name__, "status": error.status_code, "code": error.error.code if error.error else None}
    return {"type": None}


def emit(results: dict) -> None:
    json.dump(results, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


def plain(value):
    """An SDK enum member as the wire string it stands for (str() of a str-Enum differs by Python version)."""
    return getattr(value, "value", value)
