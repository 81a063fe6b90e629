"""Discrete-event simulation of callers and operators driving the real ACD on a virtual clock (README: simulation).

``scenario`` (what to simulate), ``sampling`` (seeded draws), ``engine`` (the event loop behind the
``SimulatedAcd`` port), ``redis_acd`` (that port on ``queueing.acd.Acd``), ``measure`` (journal -> summaries ->
KPIs, and the Erlang prediction), ``runner`` (wiring on the emulation or a Redis server).
"""
