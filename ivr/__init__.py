"""The IVR: the flow language (``ivr.flow``), its pure engine (``ivr.engine``), prompts; see the README."""
