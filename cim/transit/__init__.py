"""Public transport: GTFS timetables, RAPTOR routing and 30-minute circles.

- :func:`read_gtfs` reads a feed into a :class:`Feed` of DataFrames, with
  calendars, calendar exceptions and times past 24:00:00.
- :class:`Timetable` holds one day's trips as arrays; :func:`earliest_arrival`
  and :func:`range_arrivals` run RAPTOR / rRAPTOR on it.
- :func:`transit_travel_times` and :func:`transit_circle` give door-to-door
  walk + transit times and the destinations within 30 minutes.
"""

from cim.transit.circles import (
    WalkNetwork,
    transit_circle,
    transit_travel_times,
    twin_transit_circles,
)
from cim.transit.gtfs import Feed, read_gtfs, seconds_to_time, time_to_seconds
from cim.transit.raptor import (
    RaptorResult,
    Timetable,
    earliest_arrival,
    range_arrivals,
)

__all__ = [
    "Feed",
    "RaptorResult",
    "Timetable",
    "WalkNetwork",
    "earliest_arrival",
    "range_arrivals",
    "read_gtfs",
    "seconds_to_time",
    "time_to_seconds",
    "transit_circle",
    "transit_travel_times",
    "twin_transit_circles",
]
