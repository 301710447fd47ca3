"""Sessions on the local Azure: in-process (`open_local`), or one running in its own process
that environment variables name (`running_local_session`). `clients.open_session` picks one
for `--cloud local`."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from identity_reconciler.azure.clients import (
    DEFAULT_LOCAL_STATE,
    LOCAL_CA_BUNDLE_ENV,
    LOCAL_CLIENT_ID_ENV,
    LOCAL_ENDPOINT_ENV,
    LOCAL_IDENTITY_HEADER_ENV,
    Session,
    connect,
    connect_emulator,
    network_trace,
)
from identity_reconciler.azure.local_credential import emulator_credential
from identity_reconciler.core.state import DesiredState


def running_local_session(
    environ: Mapping[str, str], *, desired: DesiredState | None = None
) -> Session:
    """A session on an emulator that runs in its own process, named by environment variables.

    Several commands (two applies, or an apply and the tests watching it) can then share one
    emulator and its state, and killing a command leaves the emulator running. The token comes
    from the emulator's App Service-style managed-identity endpoint, like any `--cloud local`
    session; the secret it needs is read from the environment, never from the command line.
    IDENTITY_RECONCILER_LOCAL_CLIENT_ID picks the service principal as in-process; whether RBAC
    is enforced is then the running emulator's choice (`emulator serve --enforce-rbac`).
    """
    from local_azure.api import TOKEN_PATH

    endpoint = environ.get(LOCAL_ENDPOINT_ENV, "").strip().rstrip("/")
    ca_bundle = environ.get(LOCAL_CA_BUNDLE_ENV, "").strip()
    header = environ.get(LOCAL_IDENTITY_HEADER_ENV, "").strip()
    if not endpoint.lower().startswith("https://"):
        raise ValueError(f"{LOCAL_ENDPOINT_ENV} must be the emulator's https:// endpoint")
    if not ca_bundle or not Path(ca_bundle).is_file():
        raise ValueError(
            f"{LOCAL_CA_BUNDLE_ENV} must name the emulator's CA bundle file (its 'ca_bundle')"
        )
    if not header:
        raise ValueError(
            f"{LOCAL_IDENTITY_HEADER_ENV} must hold the emulator's 'identity_header' secret"
        )
    client_id = environ.get(LOCAL_CLIENT_ID_ENV, "").strip() or None
    credential = emulator_credential(
        endpoint + TOKEN_PATH, header, ca_bundle, client_id=client_id,
        logging_enable=network_trace(),
    )
    return connect(
        endpoint,
        credential,
        ca_bundle=ca_bundle,
        subscription_ids=tuple(desired.subscriptions) if desired else (),
    )


def open_local(
    *,
    world: str | Path | None,
    state_dir: str | Path | None,
    desired: DesiredState | None,
    settings: Any,
) -> Session:
    from identity_reconciler.azure.localworld import refused, world_for
    from local_azure import api
    from local_azure.api import Settings, WorldError

    client_id = os.environ.get(LOCAL_CLIENT_ID_ENV, "").strip() or None
    if client_id:
        settings = dataclasses.replace(settings or Settings(), enforce_rbac=True)
    directory = Path(state_dir) if state_dir is not None else Path.cwd() / DEFAULT_LOCAL_STATE
    directory.mkdir(parents=True, exist_ok=True)
    seed: str | Path | dict[str, Any] = world if world is not None else world_for(desired)
    stack = contextlib.ExitStack()
    try:
        running = stack.enter_context(
            api.running(state_dir=directory, world=seed, settings=settings)
        )
        session = connect_emulator(running.info, client_id=client_id)
    except WorldError as exc:
        stack.close()
        raise (ValueError(str(exc)) if world is not None else refused(exc)) from None
    except BaseException:
        stack.close()
        raise
    session.own(stack)
    return session
