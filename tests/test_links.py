"""{% link %} (igpm/templatetags/portal.py): the header's and footer's
links, as {% url %} gives them, for each URLconf and script prefix."""

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix

from igpm.templatetags.portal import link


@pytest.mark.parametrize("name", ["home", "events:list", "members:dashboard", "account_login"])
def test_a_link_is_the_path_url_gives(name):
    assert link(name) == reverse(name)
    assert Template(f"{{% link '{name}' %}}").render(Context()) == reverse(name)


def test_a_link_follows_the_script_prefix_it_was_asked_under():
    try:
        set_script_prefix("/portal/")
        assert link("privacy") == "/portal/privacy/"
    finally:
        set_script_prefix("/")
    assert link("privacy") == "/privacy/"


def test_a_link_follows_the_urlconf(settings):
    assert link("privacy") == "/privacy/"
    assert link("account_login") == "/accounts/login/"
    # Under a URLconf with no privacy page, and allauth's at the root.
    settings.ROOT_URLCONF = "allauth.urls"
    with pytest.raises(NoReverseMatch):
        link("privacy")
    assert link("account_login") == "/login/"
