"""Per-document resolution: defaults, ARM ids, scopes and roles, each failure a located finding.

A `DocContext` wraps one validated document with its locations, so every helper here can say
exactly where a missing default or a bad scope was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from identity_reconciler.core import armid, roles
from identity_reconciler.core.findings import Finding, Severity
from identity_reconciler.core.state import SourceRef
from identity_reconciler.core.words import count
from identity_reconciler.spec.models import (
    IDENTITY_HOST_TYPES,
    ResourceRef,
    ResourceSpec,
    SpecDocument,
)
from identity_reconciler.spec.models import StructuredScope as StructuredScopeSpec
from identity_reconciler.spec.yamlload import LocatedDocument, PathT


@dataclass
class DocContext:
    located: LocatedDocument
    spec: SpecDocument
    findings: list[Finding] = field(default_factory=list)

    @property
    def file(self) -> str:
        return self.located.file

    def src(self, path: PathT, *, key: bool = False) -> SourceRef:
        line, column = self.located.position(path, key=key)
        return SourceRef(self.located.file, line, column)

    def report(
        self,
        path: PathT,
        rule: str,
        message: str,
        fix: str | None = None,
        *,
        severity: Severity = Severity.ERROR,
        key: bool = False,
    ) -> None:
        src = self.src(path, key=key)
        self.findings.append(Finding(src.file, src.line, src.column, severity, rule, message, fix))

    # ------------------------------------------------------------------ defaults

    def subscription(self, override: str | None, path: PathT, what: str) -> str | None:
        sub = override or self.spec.subscription
        if sub is None:
            self.report(
                path,
                "IR013",
                f"{what} has no subscription",
                "set subscription: at the top of the file, or on this entry",
            )
        return sub

    def resource_group(self, override: str | None, path: PathT, what: str) -> str | None:
        rg = override or self.spec.defaults.resource_group
        if rg is None:
            self.report(
                path,
                "IR013",
                f"{what} has no resource_group",
                "set resource_group: on this entry, or defaults.resource_group",
            )
        return rg

    def location(self, override: str | None, path: PathT, what: str) -> str | None:
        loc = override or self.spec.defaults.location
        if loc is None:
            self.report(
                path, "IR013", f"{what} has no location",
                "set location: on this entry, or defaults.location",
            )
        return loc

    # ------------------------------------------------------------------ ids and scopes

    def scope(
        self,
        value: str | StructuredScopeSpec,
        path: PathT,
        *,
        subscription: str | None,
        resource_group: str | None,
    ) -> armid.Scope | None:
        """A grant scope, from an ARM id or from parts completed by the owning entry."""
        if isinstance(value, StructuredScopeSpec):
            return self._structured_scope(value, path, subscription, resource_group)
        try:
            return armid.parse_scope(value)
        except armid.ArmIdError as exc:
            self.report(path, "IR020", f"bad scope: {exc}", _SCOPE_FIX)
            return None

    def _structured_scope(
        self,
        value: StructuredScopeSpec,
        path: PathT,
        subscription: str | None,
        resource_group: str | None,
    ) -> armid.Scope | None:
        """Built from parts the models already checked, so no ARM id text is parsed here."""
        kind = armid.ScopeKind
        if value.management_group is not None:
            if not armid.MANAGEMENT_GROUP_RE.match(value.management_group):
                self.report(
                    path, "IR020",
                    f"management group name {value.management_group!r} is not valid",
                    "use the management group's id (its name), e.g. mg-platform",
                )
                return None
            return armid.Scope(kind.MANAGEMENT_GROUP, management_group=value.management_group)
        sub = value.subscription or subscription
        if sub is None:
            self.report(
                path, "IR013", "scope has no subscription",
                "add subscription: to the scope or at the top of the file",
            )
            return None
        if value.type is None and value.resource_group is None:
            return armid.Scope(kind.SUBSCRIPTION, subscription_id=sub)
        rg = value.resource_group or resource_group
        if rg is None:
            self.report(path, "IR013", "scope has no resource_group", "add resource_group:")
            return None
        if value.type is None or value.name is None:
            return armid.Scope(kind.RESOURCE_GROUP, subscription_id=sub, resource_group=rg)
        namespace, _, type_path = value.type.partition("/")
        types = tuple(type_path.split("/"))
        names = tuple(value.name.split("/"))
        if len(types) != len(names):
            self.report(
                path,
                "IR020",
                f"scope type {value.type!r} needs {count(len(types), 'name part')}, "
                f"name {value.name!r} has {len(names)}",
                "for a child resource write name: parent/child",
            )
            return None
        pairs = "".join(f"/{t}/{n}" for t, n in zip(types, names, strict=True))
        text = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}{pairs}"
        try:
            # The parts become an id through the one parser, so they obey its rules exactly.
            return armid.parse_scope(text)
        except armid.ArmIdError as exc:
            fix = "write the resource's name as Azure shows it"
            self.report(path, "IR020", f"bad scope: {exc}", fix)
            return None

    def host_resource(
        self,
        value: str | ResourceRef | ResourceSpec,
        path: PathT,
        *,
        subscription: str | None,
        resource_group: str | None,
    ) -> armid.Scope | None:
        """A resource that holds identities (docs/identity-hosts.md) by id or by parts."""
        if isinstance(value, str):
            try:
                scope = armid.parse_scope(value)
            except armid.ArmIdError as exc:
                self.report(path, "IR020", f"bad resource id: {exc}", _SCOPE_FIX)
                return None
            rtype = (scope.resource_type or "").lower()
            if scope.kind is not armid.ScopeKind.RESOURCE or rtype not in IDENTITY_HOST_TYPES:
                allowed = ", ".join(IDENTITY_HOST_TYPES.values())
                self.report(
                    path, "IR020", f"{value!r} is not a resource that can hold identities",
                    f"name a resource of type {allowed}",
                )
                return None
            return _canonical_type(scope)
        sub = value.subscription or subscription
        rg = value.resource_group or resource_group
        if sub is None or rg is None:
            self.report(
                path, "IR013", f"resource {value.name!r} has no subscription or resource group",
                "add subscription: / resource_group: to it or to the file's defaults",
            )
            return None
        namespace, _, type_path = value.type.partition("/")
        types, names = tuple(type_path.split("/")), tuple(value.name.split("/"))
        if len(types) != len(names):
            self.report(
                (*path, "name"), "IR020",
                f"type {value.type!r} needs {len(types)} name part(s), "
                f"name {value.name!r} has {len(names)}",
                "name a slot as app/slot, e.g. app-myapp-prod-uks-01/staging",
            )
            return None
        try:
            scope = armid.parse_scope(
                armid.Scope(
                    armid.ScopeKind.RESOURCE, subscription_id=sub, resource_group=rg,
                    namespace=namespace, types=types, names=names,
                ).id
            )
        except armid.ArmIdError as exc:
            self.report(path, "IR020", f"bad resource: {exc}", None)
            return None
        return _canonical_type(scope)

    # ------------------------------------------------------------------ roles

    def role(self, text: str, path: PathT) -> roles.RoleRef | None:
        catalog = roles.catalog()
        try:
            ref = catalog.resolve(text)
        except roles.UnknownRoleError as exc:
            fix = (
                f"did you mean {_or(exc.suggestions)}?"
                if exc.suggestions
                else "use a built-in role name or a role definition id"
            )
            self.report(path, "IR021", f"unknown role {text.strip()!r}", fix)
            return None
        except armid.ArmIdError as exc:
            self.report(
                path, "IR021", f"role {text.strip()!r} is not a role name or id: {exc}",
                "write a built-in role name, a GUID or /providers/Microsoft.Authorization/"
                "roleDefinitions/<guid>",
            )
            return None
        if not ref.builtin:
            self.report(
                path, "IR022", f"role id {ref.guid} is not a built-in role; assuming a custom role",
                "check the id, or ignore this for a custom role",
                severity=Severity.WARNING,
            )
        elif ref.former_name is not None:
            self.report(
                path, "IR023", f"role {ref.former_name!r} is now called {ref.name!r}",
                f"write role: {ref.name}",
                severity=Severity.WARNING,
            )
        return ref


_SCOPE_FIX = (
    "write an ARM id such as /subscriptions/<guid>/resourceGroups/<rg>, or a mapping "
    "{resource_group, type, name}"
)


def _or(items: tuple[str, ...] | list[str]) -> str:
    quoted = [repr(i) for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _canonical_type(scope: armid.Scope) -> armid.Scope:
    """The same resource with its type in canonical casing, so ids compare and read well."""
    canonical = IDENTITY_HOST_TYPES[(scope.resource_type or "").lower()]
    namespace, _, type_path = canonical.partition("/")
    return armid.Scope(
        scope.kind,
        subscription_id=scope.subscription_id,
        resource_group=scope.resource_group,
        namespace=namespace,
        types=tuple(type_path.split("/")),
        names=scope.names,
    )
