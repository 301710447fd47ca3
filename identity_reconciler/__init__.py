"""identity-reconciler: Azure managed identities, federated credentials and RBAC grants as code."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("identity-reconciler")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
