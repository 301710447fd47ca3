// The Azure SDK for JavaScript against the local Azure, as docs/local-azure.md shows it.
// Reads LOCAL_AZURE_ENDPOINT and LOCAL_AZURE_SUBSCRIPTION; ManagedIdentityCredential reads
// IDENTITY_ENDPOINT and IDENTITY_HEADER; node trusts the emulator's CA through
// NODE_EXTRA_CA_CERTS (read at start). Prints one JSON line with what it saw.
import { ManagedIdentityCredential } from "@azure/identity";
import { ManagedServiceIdentityClient } from "@azure/arm-msi";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { randomUUID } from "node:crypto";

const endpoint = process.env.LOCAL_AZURE_ENDPOINT;
const subscription = process.env.LOCAL_AZURE_SUBSCRIPTION;
const group = process.env.LOCAL_AZURE_GROUP ?? "rg-myapp-prod-uks-01";
const options = {
  endpoint,
  // Without it the SDK asks for `${endpoint}/.default`, which Entra (and the emulator) refuse.
  credentialScopes: ["https://management.azure.com/.default"],
};
const credential = new ManagedIdentityCredential();
const out = {};

const msi = new ManagedServiceIdentityClient(credential, subscription, options);
const identity = await msi.userAssignedIdentities.createOrUpdate(group, "id-from-js", {
  location: "uksouth",
});
out.identityPrincipalId = identity.principalId;
out.identities = [];
for await (const item of msi.userAssignedIdentities.listByResourceGroup(group)) {
  out.identities.push(item.name);
}

const authz = new AuthorizationManagementClient(credential, subscription, options);
const scope = `/subscriptions/${subscription}/resourceGroups/${group}`;
const reader = `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`;
const assignment = await authz.roleAssignments.create(scope, randomUUID(), {
  roleDefinitionId: reader,
  principalId: identity.principalId,
  principalType: "ServicePrincipal",
});
out.assignmentScope = assignment.scope;

try {
  const defaults = new ManagedServiceIdentityClient(credential, subscription, { endpoint });
  await defaults.userAssignedIdentities.get(group, "id-from-js");
  out.withoutScopes = "ok";
} catch (err) {
  out.withoutScopes = String(err.message ?? err);
}
console.log(JSON.stringify(out));
