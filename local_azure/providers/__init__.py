"""The ARM resource providers the local Azure serves, one package per namespace.

`resources` (Microsoft.Resources, with discovery and the generic resource types),
`managed_identity` (Microsoft.ManagedIdentity) and `authorization` (Microsoft.Authorization)
each keep their state rules, handlers and routes together and expose `register(router)`;
`local_azure.app.PROVIDERS` lists them. The modules beside them are shared by all providers:
`listing` (pages and filters), `versions` (api-version gates), `scopes` (subscription and
resource-group lookups), `regions`.
"""
