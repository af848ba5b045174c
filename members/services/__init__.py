"""Every write the members app makes, as ``<noun>_<verb>`` functions."""
