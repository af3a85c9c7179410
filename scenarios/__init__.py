"""Scenario modules (renovation, traffic, parking, energy) over a baseline twin.

Scenarios orchestrate :mod:`cim` and :mod:`geometry`; they never mutate the
baseline twin.
"""
