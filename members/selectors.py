from dataclasses import dataclass, field

from igpm.search import word_lookup

from .authentication import read_with_user
from .models import (
    CareBoard,
    Membership,
    NHSOrganisation,
    Profile,
    User,
)


@dataclass(frozen=True)
class Completeness:
    """How much of a member's profile is filled in.

    ``missing`` names the required details still to give; ``percent`` also
    counts the optional ones, so a member sees what more they could add.
    """

    percent: int
    missing: list[str] = field(default_factory=list)
    optional_missing: list[str] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return not self.missing


def profile_get(*, user: User) -> Profile | None:
    """The user's profile with its board, or None before the first save."""
    if not user.is_authenticated:
        return None
    try:
        return Profile.objects.select_related("care_board").get(user=user)
    except Profile.DoesNotExist:
        return None


def profile_as_signed_in(*, user: User) -> Profile | None:
    """The profile as it was read with the signed-in user, as the request
    began (``members.authentication``), for a page that changes nothing;
    ``profile_get`` reads it afresh."""
    return read_with_user(user, "profile", profile_get)


def profile_completeness(*, user: User, profile: Profile | None = None) -> Completeness:
    if profile is None:
        profile = profile_get(user=user)
    required = {
        "first name": user.first_name,
        "last name": user.last_name,
        "job title": profile and profile.job_title,
        "role": profile and profile.role,
        "organisation": profile and profile.organisation_name,
        "ICB or health board": profile and profile.care_board_id,
        "years in role": profile is not None and profile.years_in_role is not None,
    }
    if profile is not None and profile.needs_ods_code:
        required["practice ODS code"] = profile.ods_code
    optional = {
        "phone number": profile and profile.phone,
        "primary care network (PCN)": profile and profile.pcn_name,
    }
    every = {**required, **optional}
    filled = sum(1 for value in every.values() if value)
    return Completeness(
        percent=round(100 * filled / len(every)),
        missing=[name for name, value in required.items() if not value],
        optional_missing=[name for name, value in optional.items() if not value],
    )


def care_board_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Active boards grouped by nation, for a select with optgroups."""
    groups: dict[str, list[tuple[int, str]]] = {}
    labels = dict(CareBoard.Nation.choices)
    for board in CareBoard.objects.filter(is_active=True).order_by("nation", "name"):
        groups.setdefault(labels[board.nation], []).append((board.pk, board.name))
    order = [label for _, label in CareBoard.Nation.choices]
    return [(nation, groups[nation]) for nation in order if nation in groups]


def _directory_listed():
    return Profile.objects.filter(
        show_in_directory=True,
        user__is_active=True,
        user__membership__status__in=Membership.IN_GOOD_STANDING,
    )


def directory_pcn_choices() -> list[tuple[int, str]]:
    """The PCNs (from the NHS data) of the practices of listed members."""
    return list(
        NHSOrganisation.objects.filter(
            kind=NHSOrganisation.Kind.PCN,
            practices__profiles__in=_directory_listed().filter(directory_show_organisation=True),
        )
        .distinct()
        .order_by("name")
        .values_list("pk", "name")
    )


def directory_search(
    *,
    query: str = "",
    care_board_id: int | None = None,
    role: str = "",
    pcn_id: int | None = None,
):
    """Members in good standing who chose to be listed, with the fields they
    chose to show (the template shows only those). Words of the query are
    found in first names and surnames (``igpm.search.word_lookup``). The
    PCN filter reads the NHS data for the member's practice, and finds only
    members who show their organisation."""
    listed = _directory_listed().select_related("user", "care_board", "practice__pcn")
    if query:
        for word in query.replace(",", " ").split()[:4]:  # "Smith, John"
            listed = listed.filter(word_lookup(word, "user__first_name", "user__last_name"))
    if care_board_id:
        listed = listed.filter(care_board_id=care_board_id)
    if role in Profile.Role.values:
        listed = listed.filter(role=role)
    if pcn_id:
        listed = listed.filter(practice__pcn_id=pcn_id, directory_show_organisation=True)
    return listed.order_by("user__last_name", "user__first_name", "pk")
