"""Plots (needs the ``plot`` extra: pip install "chainrule[plot]")."""
