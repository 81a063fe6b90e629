"""The SIP channel: a gateway on pyVoIP 1.6.8 that runs the IVR engine's steps over RTP (the README's SIP chapter)."""
