import pytest

from tests.members.privacy_world import member_with_everything, world_files


@pytest.fixture
def everything(pathway, django_capture_on_commit_callbacks):
    """A member with a row in every table that can hold their data."""
    with django_capture_on_commit_callbacks(execute=True):
        world = member_with_everything(pathway)
    world_files(world)
    return world
