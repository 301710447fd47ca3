"""The credential `--cloud local` signs in with: azure-identity's own, against the emulator.

Nothing here is a home-made token client: it is `ManagedIdentityCredential` (App Service
style) pointed at the emulator's identity endpoint, with the environment it reads scoped to
each token fetch.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential

# Variables that would make MSAL pick another managed-identity flavour than App Service.
_OTHER_MI_VARIABLES = ("IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET")


class _ScopedEnvCredential:
    """A credential that sees some environment variables only while it fetches a token.

    MSAL's managed-identity client reads IDENTITY_ENDPOINT / IDENTITY_HEADER when it acquires
    a token, not when it is built; setting them for the whole process would leak the emulator's
    endpoint into every other credential. Variables mapped to None are hidden meanwhile (on an
    Azure VM or Arc machine, IMDS_ENDPOINT would otherwise turn App Service style into Arc).
    Token fetches are rare (cached by the SDK), so a process-wide lock around them costs nothing.
    """

    _lock = threading.Lock()

    def __init__(
        self, env: Mapping[str, str | None], factory: Callable[[], TokenCredential]
    ) -> None:
        self._env = dict(env)
        with self._scoped():
            self._inner = factory()

    @contextlib.contextmanager
    def _scoped(self) -> Iterator[None]:
        with self._lock:
            saved = {k: os.environ.get(k) for k in self._env}
            for k, v in self._env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            try:
                yield
            finally:
                for k, old in saved.items():
                    if old is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = old

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        with self._scoped():
            return self._inner.get_token(*scopes, **kwargs)

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if callable(close):
            close()


def emulator_credential(
    identity_endpoint: str,
    identity_header: str,
    ca_bundle: str | None,
    *,
    client_id: str | None = None,
    logging_enable: bool = False,
) -> TokenCredential:
    """azure-identity's ManagedIdentityCredential, App Service style, against the emulator.

    `client_id` picks the service principal the token is for (default: the operator).
    """
    from azure.identity import ManagedIdentityCredential

    kwargs: dict[str, Any] = {"logging_enable": logging_enable}
    if ca_bundle:
        kwargs["connection_verify"] = ca_bundle
    if client_id:
        kwargs["client_id"] = client_id
    env: dict[str, str | None] = {
        "IDENTITY_ENDPOINT": identity_endpoint,
        "IDENTITY_HEADER": identity_header,
        **dict.fromkeys(_OTHER_MI_VARIABLES),
    }
    return _ScopedEnvCredential(env, lambda: ManagedIdentityCredential(**kwargs))
