"""Every Redis key the hotline uses, declared here and nowhere else.

All keys of one hotline share the hash tag ``{<tag>}`` so that a multi-key Lua script touches one Redis Cluster
slot. Build them with :class:`Keys`; never format a key string elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

JOURNAL_GROUP = "sql-writer"


@dataclass(frozen=True)
class Keys:
    """Key templates of one hotline (``tag`` becomes the cluster hash tag)."""

    tag: str

    @property
    def prefix(self) -> str:
        return f"cc:{{{self.tag}}}:"

    # -- the event journal ---------------------------------------------------
    @property
    def journal(self) -> str:
        """Stream of call events, appended by the ACD scripts, drained into SQL by the worker."""
        return self.prefix + "journal"

    @property
    def journal_dead(self) -> str:
        """Stream of journal entries that could not be parsed (kept for a human, never dropped)."""
        return self.prefix + "journal:dead"

    # -- ACD live state (owned by queueing/) -----------------------------------
    def queue_waiting(self, queue: str) -> str:
        """Sorted set of waiting call ids, scored by (priority, first-entered time)."""
        return f"{self.prefix}q:{queue}:waiting"

    def queue_operators(self, queue: str) -> str:
        """Set of operator ids who are members of a queue."""
        return f"{self.prefix}q:{queue}:ops"

    def queue_stats(self, queue: str) -> str:
        """Hash of today's counters and recent throughput of a queue."""
        return f"{self.prefix}q:{queue}:stats"

    def queue_config(self, queue: str) -> str:
        """Hash of the queue's routing configuration, loaded from the hotline file."""
        return f"{self.prefix}q:{queue}:cfg"

    def queue_available(self, queue: str) -> str:
        """Sorted set of the queue's available operators, scored by the queue strategy's key (lowest first)."""
        return f"{self.prefix}q:{queue}:avail"

    def queue_staffed(self, queue: str) -> str:
        """Set of the queue's logged-in operators (any state but offline)."""
        return f"{self.prefix}q:{queue}:staffed"

    @property
    def acd_timers(self) -> str:
        """Sorted set of ACD deadlines (ring timeout, wrap-up end, max wait), scored by due time."""
        return self.prefix + "acd:timers"

    @property
    def acd_meta(self) -> str:
        """Hash of ACD-wide counters (the round-robin sequence)."""
        return self.prefix + "acd:meta"

    def operator(self, operator: str) -> str:
        """Hash of one operator's live state."""
        return f"{self.prefix}op:{operator}"

    def operator_skills(self, operator: str) -> str:
        """Hash skill -> level of one operator."""
        return f"{self.prefix}op:{operator}:skills"

    def call(self, call_id: str) -> str:
        """Hash of one live call (queue, priority, first-entered time, state, operator...)."""
        return f"{self.prefix}call:{call_id}"

    @property
    def operators(self) -> str:
        """Set of every known operator id."""
        return self.prefix + "ops"

    @property
    def queues(self) -> str:
        """Set of every configured queue name."""
        return self.prefix + "queues"

    # -- the Twilio channel (owned by webhooks/) --------------------------------------
    def twilio_call(self, call_sid: str) -> str:
        """Hash of one Twilio call leg's channel state (IVR context, Twilio queue, replies); TTL'd."""
        return f"{self.prefix}tw:call:{call_sid}"

    @property
    def twilio_dispatch(self) -> str:
        """Flag (short TTL) set while a dispatcher job is pending, so bursts of pokes enqueue one job."""
        return self.prefix + "tw:dispatch"

    def twilio_sms_survey(self, number: str) -> str:
        """Hash of the SMS survey pending for a caller's number (call id, question); TTL'd."""
        return f"{self.prefix}tw:sms:{number}"

    # -- the SIP channel (owned by ivr/sip/) and offers between channels (queueing/handoff.py) ----------------
    @property
    def sip_offers(self) -> str:
        """Pub/sub channel on which offers for SIP calls reach the gateway that holds the call."""
        return self.prefix + "sip:offers"

    def sip_callback_claim(self, call_id: str, operator: str) -> str:
        """Flag (TTL'd) of the one gateway that dials a SIP callback offer handed over by another channel."""
        return f"{self.prefix}sip:cb:{call_id}:{operator}"

    # -- live KPI windows and surveys (owned by callcenter/kpi/ and callcenter/surveys.py) --------------
    def kpi_bucket(self, resolution: str, start: int) -> str:
        """Hash of the KPI totals of calls that entered a queue in one bucket ("m" minute, "q" quarter hour:
        epoch start; "d" local day: wall-clock start), fields "<queue>|<total>"; TTL'd."""
        return f"{self.prefix}kpi:{resolution}:{start}"

    def kpi_call(self, call_id: str) -> str:
        """Hash of the totals one call has contributed to the live KPI buckets (and where); TTL'd."""
        return f"{self.prefix}kpi:call:{call_id}"

    @property
    def kpi_version(self) -> str:
        """Counter bumped whenever the live KPI buckets change (the dashboard publisher watches it)."""
        return self.prefix + "kpi:version"

    def survey_answer(self, call_id: str, question_id: str) -> str:
        """Flag (TTL'd) that a call's survey question is answered: one answer per question per call."""
        return f"{self.prefix}survey:{call_id}:{question_id}"

    def survey_sms(self, number: str) -> str:
        """Hash of the SMS survey awaiting a reply from a caller's number (call id, question, sent at); TTL'd."""
        return f"{self.prefix}survey:sms:{number}"

    @property
    def recovery_mark(self) -> str:
        """Set after every rebuild of live state from SQL: its absence means Redis lost (or never had) it."""
        return self.prefix + "recovery:mark"

    @property
    def watchdog_lock(self) -> str:
        """Lock (TTL'd) that lets one watchdog sweep run at a time across workers."""
        return self.prefix + "watchdog:lock"

    def rq_queue_name(self, name: str = "default") -> str:
        """Name of an RQ queue of this hotline (RQ builds its own keys from it)."""
        return f"cc-{self.tag}-{name}"

    # -- API and console logins (owned by callcenter/auth.py) -------------------------------------------------
    def login_attempts(self, username: str, address: str) -> str:
        """Counter of failed logins of one username from one address in the current window; TTL'd."""
        return f"{self.prefix}auth:fail:{username.lower()}:{address}"
