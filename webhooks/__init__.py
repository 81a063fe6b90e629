"""The Twilio channel: signed webhooks, TwiML rendering of IVR steps, our ACD behind Twilio queues, REST port."""
