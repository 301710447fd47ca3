"""SDK clients for one run: which cloud, which credential, and how many requests it cost.

The only differences between clouds are the ARM endpoint, the token audience and the Entra
authority; the local emulator adds its CA bundle and a managed-identity endpoint. Everything
else (retry policy, request counting) is the same for every client of a `Session`, so that the
plan can report what it cost on ARM and tests can assert it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from azure.core.credentials import TokenCredential
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

from identity_reconciler.azure.errors import ArmRequestError, arm_errors
from identity_reconciler.azure.local_credential import emulator_credential
from identity_reconciler.azure.resource_types import ResourceType, TypeCatalog
from identity_reconciler.core.state import DesiredState


@dataclass(frozen=True)
class Cloud:
    name: str
    arm_endpoint: str
    authority_host: str
    scope: str


CLOUDS: dict[str, Cloud] = {
    "azure": Cloud(
        "azure",
        "https://management.azure.com",
        "login.microsoftonline.com",
        "https://management.azure.com/.default",
    ),
    "azure-china": Cloud(
        "azure-china",
        "https://management.chinacloudapi.cn",
        "login.chinacloudapi.cn",
        "https://management.chinacloudapi.cn/.default",
    ),
    "azure-usgov": Cloud(
        "azure-usgov",
        "https://management.usgovcloudapi.net",
        "login.microsoftonline.us",
        "https://management.core.usgovcloudapi.net/.default",
    ),
}
CLOUD_NAMES = (*CLOUDS, "local")
# The emulator accepts the public-cloud audience, like code written for Azure would send.
LOCAL_SCOPE = "https://management.azure.com/.default"
DEFAULT_LOCAL_STATE = Path(".identity-reconciler") / "local"
# `--cloud local` against an emulator that already runs (`identity-reconciler emulator serve`,
# whose JSON line gives all three): its endpoint, its CA bundle, and its managed-identity secret.
LOCAL_ENDPOINT_ENV = "IDENTITY_RECONCILER_LOCAL_ENDPOINT"
LOCAL_CA_BUNDLE_ENV = "IDENTITY_RECONCILER_LOCAL_CA_BUNDLE"
LOCAL_IDENTITY_HEADER_ENV = "IDENTITY_RECONCILER_LOCAL_IDENTITY_HEADER"
# With --cloud local: sign in as this service principal (by client id) instead of the operator,
# with RBAC enforced, to see what that identity may do. Not AZURE_CLIENT_ID: CI jobs that also
# talk to real Azure set that one for their own sign-in.
LOCAL_CLIENT_ID_ENV = "IDENTITY_RECONCILER_LOCAL_CLIENT_ID"


class RequestCounter(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Counts every request put on the wire, retries included, by HTTP method.

    Installed as a per-retry policy, so it runs once per attempt; one instance is shared by all
    clients of a session (thread-safe).
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._by_method: Counter[str] = Counter()

    def on_request(self, request: PipelineRequest) -> None:  # type: ignore[type-arg]
        with self._lock:
            self._by_method[request.http_request.method.upper()] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._by_method.values())

    def by_method(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_method)

    def reset(self) -> None:
        with self._lock:
            self._by_method.clear()


def network_trace() -> bool:
    """Whether clients log whole HTTP exchanges (headers, bodies): when `azure` logs at DEBUG.

    That is `-vv` on the command line, whose log handler redacts credentials from every record.
    """
    return logging.getLogger("azure").isEnabledFor(logging.DEBUG)


def retry_policy(retries: int | None = None) -> RetryPolicy[Any, Any]:
    """ARM-friendly retries: a few quick ones for 5xx/connection errors, and Retry-After honoured.

    azure-core already sleeps for Retry-After on 429/503; we bound the total time so that a run
    fails with a clear Throttled error rather than hanging for the SDK's default of a week.
    `retries=0` turns retrying off (tests of error mapping).
    """
    if retries is not None and retries <= 0:
        return RetryPolicy(retry_total=0, retry_connect=0, retry_read=0, retry_status=0)
    return RetryPolicy(
        retry_total=6,
        retry_connect=3,
        retry_read=3,
        retry_status=5,
        retry_backoff_factor=0.5,
        retry_backoff_max=30,
        timeout=300,
    )


_C = TypeVar("_C")


class Session:
    """Clients for one run, created lazily per subscription, sharing one request counter."""

    def __init__(
        self,
        *,
        cloud: str,
        arm_endpoint: str,
        scope: str,
        credential: TokenCredential,
        tenant_id: str | None = None,
        ca_bundle: str | None = None,
        subscription_ids: tuple[str, ...] = (),
        retries: int | None = None,
    ) -> None:
        self.cloud = cloud
        self.retries = retries
        self.arm_endpoint = arm_endpoint.rstrip("/")
        self.scope = scope
        self.credential = credential
        self.ca_bundle = ca_bundle
        self.counter = RequestCounter()
        self.subscription_ids = subscription_ids
        self._tenant_id = tenant_id
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._exit = contextlib.ExitStack()
        self._types = TypeCatalog()

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            with contextlib.suppress(Exception):
                client.close()
        close = getattr(self.credential, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()
        self._exit.close()

    def own(self, cm: contextlib.AbstractContextManager[_C]) -> _C:
        """Tie a context manager's lifetime (e.g. the local emulator) to this session."""
        return self._exit.enter_context(cm)

    # ------------------------------------------------------------------ clients
    @property
    def requests(self) -> int:
        return self.counter.total

    def _kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "base_url": self.arm_endpoint,
            "credential_scopes": [self.scope],
            "per_retry_policies": [self.counter],
            "retry_policy": retry_policy(self.retries),
            "logging_enable": network_trace(),
        }
        if self.ca_bundle:
            kwargs["connection_verify"] = self.ca_bundle
        return kwargs

    def _client(self, kind: str, subscription_id: str, build: Callable[[], _C]) -> _C:
        with self._lock:
            client = self._clients.get((kind, subscription_id))
            if client is None:
                client = self._clients[(kind, subscription_id)] = build()
            return client

    def msi(self, subscription_id: str) -> ManagedServiceIdentityClient:
        return self._client(
            "msi",
            subscription_id,
            lambda: ManagedServiceIdentityClient(
                self.credential, subscription_id, **self._kwargs()
            ),
        )

    def authorization(self, subscription_id: str) -> AuthorizationManagementClient:
        return self._client(
            "authorization",
            subscription_id,
            lambda: AuthorizationManagementClient(
                self.credential, subscription_id, **self._kwargs()
            ),
        )

    def resources(self, subscription_id: str) -> ResourceManagementClient:
        return self._client(
            "resources",
            subscription_id,
            lambda: ResourceManagementClient(self.credential, subscription_id, **self._kwargs()),
        )

    def subscriptions(self) -> SubscriptionClient:
        return self._client(
            "subscriptions", "", lambda: SubscriptionClient(self.credential, **self._kwargs())
        )

    def resource_type(self, resource_type: str, subscription_id: str) -> ResourceType:
        """Api-version and identity-type spelling for generic reads/writes of `resource_type`."""

        def lookup(namespace: str) -> dict[str, list[str]]:
            with arm_errors():
                provider = self.resources(subscription_id).providers.get(namespace)
            return {
                str(rt.resource_type).lower(): [str(v) for v in rt.api_versions or ()]
                for rt in provider.resource_types or ()
                if rt.resource_type
            }

        return self._types.get(resource_type, lookup)

    def tenant_id(self, subscription_id: str | None = None) -> str:
        """The tenant of the subscription (asked of ARM once, then remembered)."""
        if self._tenant_id:
            return self._tenant_id
        sub = subscription_id or (self.subscription_ids[0] if self.subscription_ids else None)
        with arm_errors():
            if sub:
                tenant = self.subscriptions().subscriptions.get(sub).tenant_id
            else:
                tenant = next(iter(self.subscriptions().tenants.list())).tenant_id
        if not tenant:
            raise ArmRequestError(0, "TenantUnknown", "could not learn the tenant id from ARM")
        self._tenant_id = str(tenant)
        return self._tenant_id

    def tenant_of(self, subscription_id: str) -> str:
        """The tenant ARM says this subscription belongs to (asked every time, never assumed)."""
        with arm_errors():
            tenant = self.subscriptions().subscriptions.get(subscription_id).tenant_id
        if not tenant:
            raise ArmRequestError(0, "TenantUnknown", f"ARM names no tenant for {subscription_id}")
        return str(tenant)


def connect(
    endpoint: str,
    credential: TokenCredential,
    *,
    ca_bundle: str | None = None,
    tenant_id: str | None = None,
    scope: str = LOCAL_SCOPE,
    cloud: str = "local",
    subscription_ids: tuple[str, ...] = (),
    retries: int | None = None,
) -> Session:
    """A session against an explicit ARM endpoint (a running emulator, in tests and benchmarks)."""
    return Session(
        cloud=cloud,
        arm_endpoint=endpoint,
        scope=scope,
        credential=credential,
        tenant_id=tenant_id,
        ca_bundle=ca_bundle,
        subscription_ids=subscription_ids,
        retries=retries,
    )


def connect_emulator(
    info: Any, *, retries: int | None = None, client_id: str | None = None
) -> Session:
    """A session on a running emulator, from its `EmulatorInfo`; `client_id`: see above."""
    extra = {"client_id": client_id} if client_id else {}
    credential = emulator_credential(
        info.identity_endpoint, info.identity_header, info.ca_bundle,
        logging_enable=network_trace(), **extra,
    )
    return connect(
        info.endpoint,
        credential,
        ca_bundle=info.ca_bundle,
        tenant_id=info.tenant_id,
        subscription_ids=tuple(info.subscription_ids),
        retries=retries,
    )


def open_session(
    cloud: str = "azure",
    *,
    world: str | Path | None = None,
    state_dir: str | Path | None = None,
    desired: DesiredState | None = None,
    settings: Any = None,
) -> Session:
    """The session for `--cloud NAME`: a real Azure cloud, or the embedded emulator.

    For `local`, the emulator starts in-process with state under `state_dir` (default
    `.identity-reconciler/local/` in the working directory) and is stopped when the session
    closes. Without `world`, it is seeded with the packaged default world plus whatever the
    specs reference, so a user's own specs plan and apply locally. When
    IDENTITY_RECONCILER_LOCAL_ENDPOINT is set, the session talks to that running emulator instead
    (`running_local_session`); nothing starts in-process then. The run signs in as the
    emulator's operator or, when IDENTITY_RECONCILER_LOCAL_CLIENT_ID names another service
    principal of its state, as that one with RBAC enforced (least-privilege rehearsals).
    """
    if cloud == "local":
        from identity_reconciler.azure.local_sessions import open_local, running_local_session

        if os.environ.get(LOCAL_ENDPOINT_ENV):
            if world is not None or state_dir is not None:
                raise ValueError(
                    f"--world and --state-dir start an emulator in-process; with "
                    f"{LOCAL_ENDPOINT_ENV} set, the running emulator there is used instead "
                    "(give it --world/--state when it starts)"
                )
            return running_local_session(os.environ, desired=desired)
        return open_local(world=world, state_dir=state_dir, desired=desired, settings=settings)
    if cloud not in CLOUDS:
        raise ValueError(f"unknown cloud {cloud!r}; expected one of {', '.join(CLOUD_NAMES)}")
    spec = CLOUDS[cloud]
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential(
        authority=spec.authority_host, logging_enable=network_trace()
    )
    return Session(
        cloud=cloud,
        arm_endpoint=spec.arm_endpoint,
        scope=spec.scope,
        credential=credential,
        subscription_ids=tuple(desired.subscriptions) if desired else (),
    )
