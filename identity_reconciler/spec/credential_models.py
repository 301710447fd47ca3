"""Federated credentials in the spec format, and the base every spec model shares.

A credential trusts a token by its exact `subject`, or (a flexible credential) by a
`claims_matching_expression` over the token's claims; exactly one of the two. The expression is
written as a string (language version 1, the only one Azure documents) or as a mapping
`{value, language_version}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from identity_reconciler.spec.values import (
    CLAIMS_EXAMPLE,
    DEFAULT_AUDIENCE,
    ClaimsExpressionText,
    FicName,
    FicSubject,
    HttpsUrl,
    NonBlank,
    SpecValueError,
)


class SpecModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ClaimsExpressionSpec(SpecModel):
    """A claims matching expression with its language version spelled out."""

    value: ClaimsExpressionText
    language_version: Literal[1] = Field(
        1, description="the expression language's version; Azure documents only 1"
    )


def _expression_kind(value: Any) -> str | None:
    return "text" if isinstance(value, str) else "structured" if isinstance(value, dict) else None


ClaimsExpressionEntry = Annotated[
    Annotated[ClaimsExpressionText, Tag("text")]
    | Annotated[ClaimsExpressionSpec, Tag("structured")],
    Discriminator(
        _expression_kind,
        custom_error_type="claims_expression_type",
        custom_error_message="a claims matching expression is a string, or a mapping "
        "{value, language_version}",
    ),
]


class FederatedCredentialSpec(SpecModel):
    """A token the identity trusts: give `subject` (matched exactly) or
    `claims_matching_expression` (a flexible credential), not both."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["subject"]}, {"required": ["claims_matching_expression"]}]
        }
    )

    name: FicName
    issuer: HttpsUrl
    subject: FicSubject | None = Field(
        None, description="the token's subject, matched exactly (no wildcards)"
    )
    claims_matching_expression: ClaimsExpressionEntry | None = Field(
        None,
        description="instead of subject: the token's claims must match this expression "
        "(a string, or {value, language_version}); sent at api-version "
        "2025-01-31-preview, the first to know it",
    )
    audiences: Annotated[
        list[Annotated[NonBlank, Field(max_length=600)]], Field(min_length=1)
    ] = Field(
        default_factory=lambda: [DEFAULT_AUDIENCE],
        json_schema_extra={"default": [DEFAULT_AUDIENCE]},
    )

    @model_validator(mode="after")
    def _one_match(self) -> FederatedCredentialSpec:
        if self.subject is not None and self.claims_matching_expression is not None:
            raise SpecValueError(
                "a federated credential matches by subject or by claims_matching_expression, "
                "not both",
                "remove one of the two",
                key="claims_matching_expression",
            )
        if self.subject is None and self.claims_matching_expression is None:
            raise SpecValueError(
                "a federated credential needs a subject or a claims_matching_expression",
                "add subject: (the token's exact subject), or claims_matching_expression: "
                f"{CLAIMS_EXAMPLE!r}",
            )
        return self

    @property
    def expression(self) -> ClaimsExpressionSpec | None:
        """The expression with its language version, whichever way it was written."""
        value = self.claims_matching_expression
        return (
            ClaimsExpressionSpec(value=value, language_version=1)
            if isinstance(value, str)
            else value
        )
