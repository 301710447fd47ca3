"""Microsoft.Sql's data plane: a SQL endpoint for the emulator's `servers/databases`.

It is not SQL Server. Each database has a catalog (`catalog`): principals, role memberships,
extended properties, schemas. The endpoint (`endpoint`) signs callers in with Entra tokens
checked against the server's administrator, and executes exactly the statement forms the
reconciler emits (`statements`) and the catalog queries it reads (`queries`), refusing any
other text with a clear error. The ARM side of Microsoft.Sql (servers, databases, the Entra
administrator) is served with the generic resource types in `providers/resources`.
"""

from __future__ import annotations

from local_azure.providers.sql.endpoint import register

__all__ = ["register"]
