"""local_azure: a local Azure, an ARM emulator over HTTPS on 127.0.0.1 with state in SQLite.

A separate program that ships in the identity-reconciler distribution: it imports nothing of
the reconciler (an import-linter contract), so clients not written here can rely on it speaking
plain ARM. Other code uses `local_azure.api` only (also a contract); run it as a process with
`local-azure serve` (see `local_azure/README.md`).
"""
