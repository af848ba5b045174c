"""What the portal holds about a member, and what it does with it when they
ask for a copy ("Download my data") or to be forgotten ("Delete my
account").

``registry.REGISTRY`` lists every model that can hold a member's data, with
how its rows are found, exported and erased; each app fills it from its own
``privacy.py`` (members' own are in ``holdings``). ``archive`` builds the
export from it and ``erase`` the erasure, so the two cannot drift apart.
"""
