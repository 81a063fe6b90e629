"""`callcenter serve --demo`: the demo hotline brought to life by simulated callers and operators.

A *virtual Twilio* (:mod:`callcenter.demo.engine`) plays Twilio's part inside the serving process: callers
dial in by signed webhooks posted to the real Flask app, follow the TwiML it answers (IVR digits, the wait
loop, the bridge, the whisper, the survey), send status and recording callbacks, and the channel's REST calls
(pushes to the bridge, redirects, callbacks, SMS surveys) reach it through a small in-process REST server
(:mod:`callcenter.demo.rest`) that ``TWILIO_API_BASE_URL`` points at. Simulated operators
(:mod:`callcenter.demo.operators`) log in through the ACD, answer or miss rings, wrap up with a disposition on
the call's ticket, and take breaks. Everything else is the production code path: journal, call records,
tickets, survey answers and KPIs come out as they do for real calls. See the README's living-demo chapter.
"""
