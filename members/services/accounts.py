from django.db import transaction
from django.utils import timezone

from members.models import CareBoard, Profile, Session, User
from members.organisations.ods_selectors import care_board_for, practice_get


@transaction.atomic
def profile_update(
    *,
    user: User,
    first_name: str,
    last_name: str,
    job_title: str,
    role: str,
    organisation_name: str,
    ods_code: str,
    pcn_name: str,
    care_board: CareBoard,
    years_in_role: int,
    phone: str,
    show_in_directory: bool,
    marketing_consent: bool,
    **directory_choices: bool,
) -> Profile:
    """Save the member's details: their name on the account, the rest on the
    profile, both or neither. A practice code the NHS data knows links the
    profile to the practice and sets the PCN and ICB from the data; one it
    does not know is kept, unlinked (staff see it in "Practice codes to
    check")."""
    practice = practice_get(code=ods_code)
    if practice is not None:
        pcn_name = practice.pcn.name if practice.pcn_id else pcn_name
        care_board = care_board_for(practice) or care_board
    user.first_name = first_name
    user.last_name = last_name
    user.save(update_fields=["first_name", "last_name"])
    profile, _ = Profile.objects.update_or_create(
        user=user,
        defaults={
            "job_title": job_title,
            "role": role,
            "organisation_name": organisation_name,
            "ods_code": ods_code,
            "practice": practice,
            "pcn_name": pcn_name,
            "care_board": care_board,
            "years_in_role": years_in_role,
            "phone": phone,
            "show_in_directory": show_in_directory,
            "marketing_consent": marketing_consent,
            **directory_choices,
        },
    )
    return profile


def sessions_clear_expired() -> int:
    """Delete expired sessions; return how many went."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
