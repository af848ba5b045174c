"""{% link %} and {% asset %} (igpm/templatetags/portal.py): the header's
and footer's links and static files, as {% url %} and {% static %} give
them, for each URLconf, script prefix and static setting."""

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


@pytest.mark.parametrize("path", ["css/portal.css", "js/portal.js", "brand/logo.svg"])
def test_an_asset_is_the_url_static_gives(path):
    from django.templatetags.static import static

    from igpm.templatetags.portal import asset

    assert asset(path) == static(path)
    assert Template(f"{{% asset '{path}' %}}").render(Context()) == static(path)


def test_an_asset_follows_the_static_settings(settings):
    from igpm.templatetags.portal import asset

    settings.STATIC_URL = "/static/"
    assert asset("css/portal.css") == "/static/css/portal.css"
    settings.STATIC_URL = "https://assets.example.org/portal/"
    assert asset("css/portal.css") == "https://assets.example.org/portal/css/portal.css"
