"""identity-reconciler: Azure managed identities, federated credentials and RBAC grants as code."""

# The one place the version is written (pyproject.toml reads it from here): `--version` needs
# no `importlib.metadata`, which costs more to import than the rest of `--help`.
__version__ = "0.1.0"
