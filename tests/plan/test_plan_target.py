"""`--target`: an address as printed or, for a home object, with its subscription; anything
that is no address, or could mean several changes, is refused with a clear error."""

from __future__ import annotations

import pytest
from address_estates import OTHER, one_subscription, two_subscriptions
from plan_factories import RG, SUB

from identity_reconciler.core.errors import UserError
from identity_reconciler.plan.model import Plan
from identity_reconciler.plan.names import estate_home
from identity_reconciler.plan.target import NO_SUCH_TARGET, check_targets, targeted

READER = f"grant.{RG}/id-app/Reader@{OTHER}/rg-shared-prod-uks-01"


def _one() -> tuple[Plan, str | None]:
    estate = one_subscription()
    return estate.plan(), estate_home(estate.desired)


def _kept(p: Plan) -> list[str]:
    return [c.address for c in p.changes]


@pytest.mark.parametrize(
    "spelling",
    [
        READER,
        READER.upper(),
        f"grant.{SUB}/{RG}/id-app/Reader@{OTHER}/rg-shared-prod-uks-01",
        f"  grant.{SUB.upper()}/{RG.upper()}/id-app/reader@{OTHER}/rg-shared-prod-uks-01 ",
    ],
)
def test_a_home_object_is_targeted_as_printed_or_with_its_subscription(spelling: str) -> None:
    full, home = _one()
    part = targeted(full, [spelling], home=home)
    assert _kept(part) == [READER]  # the identity it needs exists: only an update, not kept
    assert part.options.targets == (spelling.strip(),)
    assert [n.code for n in part.notices if n.code == NO_SUCH_TARGET] == []


def test_a_home_identity_targeted_with_its_subscription_brings_nothing_else() -> None:
    full, home = _one()
    part = targeted(full, [f"identity.{SUB}/{RG}/ID-APP"], home=home)
    assert _kept(part) == [f"identity.{RG}/id-app"]


def test_another_subscriptions_qualifier_is_not_the_home_one() -> None:
    """`identity.<OTHER>/rg/id-app` is another object: nothing to do for it, and a hint."""
    full, home = _one()
    part = targeted(full, [f"identity.{OTHER}/{RG}/id-app"], home=home)
    assert _kept(part) == []
    (missing,) = [n for n in part.notices if n.code == NO_SUCH_TARGET]
    assert missing.message.endswith(f"did you mean identity.{RG}/id-app?")


def test_a_well_formed_target_with_no_change_is_a_notice() -> None:
    """It may already match the specs: a saved targeted plan, planned again after apply."""
    full, home = _one()
    part = targeted(full, [f"identity.{RG}/id-in-sync"], home=home)
    assert _kept(part) == []
    (missing,) = [n for n in part.notices if n.code == NO_SUCH_TARGET]
    assert "may already match the specs" in missing.message
    assert "did you mean" not in missing.message


def test_several_subscriptions_want_the_subscription_in_every_target() -> None:
    estate = two_subscriptions()
    full, home = estate.plan(), estate_home(estate.desired)
    assert home is None
    part = targeted(full, [f"identity.{OTHER}/{RG}/id-app"], home=home)
    assert _kept(part) == [f"identity.{OTHER}/{RG}/id-app"]
    with pytest.raises(UserError) as err:
        targeted(full, [f"identity.{RG}/id-app"], home=home)
    assert str(err.value) == (
        f"--target identity.{RG}/id-app names no subscription, but this plan covers several, "
        f"so every address names its own: did you mean identity.{SUB}/{RG}/id-app or "
        f"identity.{OTHER}/{RG}/id-app?"
    )


@pytest.mark.parametrize(
    "target", ["id-app", f"{RG}/id-app", f"identities.{RG}/id-app", "identity.", ".x"]
)
def test_a_target_that_is_no_address_is_refused(target: str) -> None:
    with pytest.raises(UserError) as err:
        check_targets([target])
    assert str(err.value).startswith(f"--target {target}: not an address; an address starts")
    assert "identity, federated_credential, attachment" in str(err.value)
    full, home = _one()
    with pytest.raises(UserError):
        targeted(full, [target], home=home)


def test_two_changes_that_fold_to_one_target_are_refused_not_guessed() -> None:
    """Only a resource group named like the home subscription could do this; refuse it."""
    full, home = _one()
    ident = full.change(f"identity.{RG}/id-app")
    twin = ident.model_copy(update={"address": f"identity.{SUB}/{RG}/id-app"})
    fields = {name: getattr(full, name) for name in Plan.model_fields if name != "checksum"}
    fields["changes"] = (*full.changes, twin)
    doubled = Plan.sealed(**fields)
    with pytest.raises(UserError) as err:
        targeted(doubled, [f"identity.{RG}/id-app"], home=home)
    assert "is ambiguous" in str(err.value)
    assert f"identity.{SUB}/{RG}/id-app or identity.{RG}/id-app" in str(err.value)


def test_blank_targets_leave_the_plan_whole() -> None:
    full, home = _one()
    assert targeted(full, ["", "  "], home=home) is full
    assert check_targets([" identity.rg/x ", ""]) == ["identity.rg/x"]
