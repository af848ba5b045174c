"""Every write billing makes, as ``<noun>_<verb>`` functions."""
