"""Segments a lower layer could rewrite are refused, and names have their ARM lengths.

Each refused character class is tried once, beside a name that is accepted, so a rule that
stops refusing (or starts refusing plain names) is noticed.
"""

from __future__ import annotations

import pytest

from identity_reconciler.core import armid
from identity_reconciler.core.armid import ArmIdError

RG = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-app"
MI = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"


def vault(name: str) -> str:
    return f"{RG}/providers/Microsoft.KeyVault/vaults/{name}"


@pytest.mark.parametrize(
    "name",
    [
        ".",
        "..",
        " kv",
        "kv ",
        "kv%41",
        "kv\\x",
        "k\x01v",  # Cc
        "k\u202ev",  # Cf: right-to-left override
        "k\ud800v",  # Cs
        "k\ue000v",  # Co
        "k\u0378v",  # Cn: unassigned
        "k\u2028v",  # Zl
        "k\u2029v",  # Zp
        "\uff4b\uff56",  # fullwidth 'kv': NFKC folds it
        "kv\ufb01",  # the 'fi' ligature
    ],
)
def test_a_segment_a_lower_layer_could_rewrite_is_refused(name: str) -> None:
    with pytest.raises(ArmIdError):
        armid.parse_scope(vault(name))


@pytest.mark.parametrize("name", [".", ".."])
def test_a_dot_segment_is_refused_as_one(name: str) -> None:
    with pytest.raises(ArmIdError, match="dot segment"):
        armid.parse_scope(vault(name))


@pytest.mark.parametrize("name", ["k\u2028v", "k\u2029v", "k\x01v", "k\u202ev"])
def test_an_invisible_character_inside_a_name_is_named(name: str) -> None:
    with pytest.raises(ArmIdError, match=f"U\\+{ord(name[1]):04X}"):
        armid.parse_scope(vault(name))


@pytest.mark.parametrize("name", ["kv-1", "kv.1", "kv_1", "kv(1)", "kvé", "k"])
def test_plain_names_are_accepted(name: str) -> None:
    assert armid.parse_scope(vault(name)).name == name


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("id1", True),
        ("i" * 128, True),
        ("id_-1", True),
        ("id", False),
        ("i" * 129, False),
        ("-id1", False),
        ("_id1", False),
        ("id.1", False),
    ],
)
def test_identity_names(name: str, ok: bool) -> None:
    if ok:
        assert armid.parse_scope(f"{MI}/{name}").name == name
    else:
        with pytest.raises(ArmIdError):
            armid.parse_scope(f"{MI}/{name}")


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("gh1", True),
        ("g" * 120, True),
        ("gh", False),
        ("g" * 121, False),
        ("-gh1", False),
        ("gh.1", False),
    ],
)
def test_federated_credential_names(name: str, ok: bool) -> None:
    text = f"{MI}/id-app/federatedIdentityCredentials/{name}"
    if ok:
        assert armid.parse_scope(text).name == name
    else:
        with pytest.raises(ArmIdError):
            armid.parse_scope(text)


@pytest.mark.parametrize(
    ("rtype", "ok"),
    [("vaults", True), ("v1", True), ("1vaults", False), ("va-ults", False), ("va.ults", False)],
)
def test_type_segments(rtype: str, ok: bool) -> None:
    text = f"{RG}/providers/Microsoft.KeyVault/{rtype}/kv-1"
    if ok:
        assert armid.parse_scope(text).types == (rtype,)
    else:
        with pytest.raises(ArmIdError):
            armid.parse_scope(text)
